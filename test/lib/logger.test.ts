import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../../src/lib/logger.js';
import { httpTarget } from '../support/target-server.js';

function capture(secrets: string[] = []): { log: ReturnType<typeof createLogger>; text: () => string; lines: () => Array<Record<string, unknown>> } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { log: createLogger('debug', stream, { secrets }), text: () => out, lines: () => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

describe('the logger keeps secrets out of every line', () => {
  it('header values, ec2 credentials and tokens at any depth; names and other fields stay', () => {
    const { log, text, lines } = capture();
    const target = httpTarget({ headers: [{ name: 'Authorization', value: 'Bearer sk_live_abcdef' }, { name: 'X-Api-Key', value: 'key-0123456789' }] });
    log.info({ event: 'target_added', target });
    log.info({ event: 'deep', change: { before: { target }, after: [{ target }] } });
    log.warn({ event: 'ec2', target: { kind: 'ec2', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'FwoGZXIvYXdzEBYaDH' } });
    log.info({ event: 'request', req: { headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 'session=abc123456' } } });
    log.info({ event: 'config', config: { botToken: TOKEN, webhookSecret: 'hook-secret-123', statusToken: 'status-secret-1' } });
    for (const secret of ['sk_live_abcdef', 'key-0123456789', 'wJalrXUtnFEMI', 'FwoGZXIvYXdzEBYaDH', 'dXNlcjpwYXNz', 'abc123456', TOKEN, 'hook-secret-123', 'status-secret-1']) {
      expect(text()).not.toContain(secret);
    }
    const first = lines()[0]!;
    expect(first).toMatchObject({ event: 'target_added', target: { id: target.id, url: target.url, headers: [{ name: 'Authorization', value: '[redacted]' }, { name: 'X-Api-Key', value: '[redacted]' }] } });
    expect(lines()[2]).toMatchObject({ target: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: '[redacted]' } });
  });

  it('known secret strings are cut out of messages and errors, which keep their message and stack', () => {
    const { log, text, lines } = capture([TOKEN, 'short']);
    const err = new Error(`request to https://api.telegram.org/bot${TOKEN}/getMe failed`);
    log.error({ err, event: 'telegram_failed' }, `could not reach bot${TOKEN}`);
    log.info({ event: 'word' }, 'a short word stays');
    expect(text()).not.toContain(TOKEN);
    const [line, plain] = lines() as [Record<string, unknown>, Record<string, unknown>];
    expect(line.msg).toBe('could not reach bot[redacted]');
    expect(line.err).toMatchObject({ type: 'Error', message: 'request to https://api.telegram.org/bot[redacted]/getMe failed' });
    expect(String((line.err as { stack: string }).stack)).toContain('logger.test.ts');
    expect(plain.msg).toBe('a short word stays');
  });

  it('scrubSecrets leaves values without secrets as they are', () => {
    const value = { a: 1, b: ['x', { c: null }], d: 'text', e: true };
    expect(scrubSecrets(value, [])).toEqual(value);
  });
});
