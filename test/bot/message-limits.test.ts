import type { ApiCallFn } from 'grammy';
import { describe, expect, it, vi } from 'vitest';
import { limitMessageLength } from '../../src/bot/message-limits.js';

/** Runs one call through the transformer and returns the payload that went on to Telegram. */
async function sent(method: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  const prev = vi.fn(async (_method: string, p: unknown) => ({ ok: true as const, result: p }));
  await limitMessageLength()(prev as unknown as ApiCallFn, method as never, payload as never);
  expect(prev).toHaveBeenCalledTimes(1);
  return prev.mock.calls[0]![1] as Record<string, unknown>;
}

describe('limitMessageLength', () => {
  it('passes a message within the limit on unchanged', async () => {
    const payload = { chat_id: 1, text: 'hello', parse_mode: 'HTML' };
    expect(await sent('sendMessage', payload)).toBe(payload);
  });

  it.each(['sendMessage', 'editMessageText'])('cuts an over-long HTML %s text to 4096 characters with its tags closed', async (method) => {
    const out = await sent(method, { chat_id: 1, message_id: 2, text: `<b>${'x'.repeat(5_000)}</b>`, parse_mode: 'HTML' });
    expect(String(out.text).length).toBeLessThanOrEqual(4_096);
    expect(String(out.text)).toMatch(/^<b>x+…<\/b>$/);
    expect(out.chat_id).toBe(1);
  });

  it('cuts plain text without looking for tags', async () => {
    const out = await sent('sendMessage', { chat_id: 1, text: `<${'x'.repeat(5_000)}` });
    expect(String(out.text)).toHaveLength(4_096);
    expect(String(out.text).startsWith('<x')).toBe(true);
  });

  it('drops entities that would point past the cut', async () => {
    const out = await sent('sendMessage', { chat_id: 1, text: 'y'.repeat(5_000), entities: [{ type: 'bold', offset: 0, length: 5 }, { type: 'bold', offset: 4_500, length: 5 }] });
    expect(out.entities).toEqual([{ type: 'bold', offset: 0, length: 5 }]);
  });

  it('cuts captions at 1024 and callback answers at 200', async () => {
    expect(String((await sent('sendDocument', { chat_id: 1, caption: 'c'.repeat(2_000) })).caption)).toHaveLength(1_024);
    expect(String((await sent('answerCallbackQuery', { callback_query_id: 'q', text: 't'.repeat(300) })).text)).toHaveLength(200);
  });
});
