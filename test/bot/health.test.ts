import { afterEach, describe, expect, it } from 'vitest';
import { healthText } from '../../src/bot/features/health.js';
import type { HealthReport } from '../../src/health/report.js';
import { GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const numberAfter = (text: string, label: RegExp): number => Number(label.exec(text)?.[1] ?? NaN);

const report: HealthReport = {
  version: '1.2.3',
  source: 'fra',
  uptimeMs: 90_000,
  targets: 3,
  paused: 1,
  checksLastMinute: 0,
  overdue: 0,
  running: 0,
  outboxDepth: 0,
  telegramErrorsLastHour: 0,
  store: { ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 },
};

describe('/health', () => {
  it('reports on Lookout itself, for every member, and its numbers move as checks run', async () => {
    rig = await startAppRig();
    const r = rig;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    const first = textOf(await r.say('/health', 'Lookout', MEMBER));
    expect(first).toMatch(/^🩺 <b>Lookout 0\.1\.0<\/b> · up \S+ · on test-runner/);
    expect(first).toContain('Targets: 1\n');
    expect(first).toMatch(/Store: write\+read \d+(\.\d)? ms/);
    expect(first).toContain('Outbox: 0 messages waiting');
    expect(first).toContain('Overdue checks: 0');
    const checksBefore = numberAfter(first, /Checks: (\d+) in the last minute/);
    expect(checksBefore).toBeGreaterThanOrEqual(1);
    // Only /add's first check ran, and checks asked for by hand say nothing about the scheduler's lateness.
    expect(first).toContain('lateness p50 — · p95 —');
    expect(first).toContain('Telegram API errors in the last hour: 0');

    for (let i = 0; i < 5; i++) await r.app.engine.checkNow(`${GROUP}/api`);
    r.telegram.failNext('sendMessage', { status: 502, description: 'Bad Gateway' });
    r.server.setStatus(503);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await r.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN') && !c.failed);
    const second = textOf(await r.say('/health', 'Lookout', MEMBER));
    expect(numberAfter(second, /Checks: (\d+) in the last minute/)).toBe(checksBefore + 6);
    expect(numberAfter(second, /Telegram API errors in the last hour: (\d+)/)).toBeGreaterThanOrEqual(1);
  });

  it('says when the store does not answer or checks are overdue', () => {
    const text = healthText({ ...report, overdue: 4, running: 2, outboxDepth: 1 });
    expect(text).toContain('🟠 <b>Lookout 1.2.3</b> · up 1m30s · on fra');
    expect(text).toContain('Targets: 3 (1 paused)');
    expect(text).toContain('Store: not answering!');
    expect(text).toContain('Overdue checks: 4 · running now: 2');
    expect(text).toContain('lateness p50 — · p95 —');
    expect(text).toContain('Outbox: 1 message waiting');
  });
  it('says since when the store cannot save, why, and how many writes wait', () => {
    const since = Date.UTC(2026, 10, 23, 12, 0, 5);
    const failing = { ok: false, since, cause: 'the disk is full', pendingWrites: 3, failedWrites: 7, episodes: 1 };
    const text = healthText({ ...report, storeMs: 1.5, store: failing });
    expect(text).toMatch(/^🟠 /);
    expect(text).toContain('Store: failing since 2026-11-23 12:00:05 UTC: the disk is full; 3 writes waiting!');
    expect(healthText({ ...report, storeMs: 1.5, store: { ...failing, pendingWrites: 1 } })).toContain('; 1 write waiting!');
    expect(healthText({ ...report, storeMs: 1.5 })).toMatch(/^🩺 [^\n]*\n[\s\S]*Store: write\+read 1\.5 ms/);
  });
});

describe('/health lists the destinations', () => {
  it('with the last delivery and the last error, for the chat it is asked in', async () => {
    const { healthText } = await import('../../src/bot/features/health.js');
    const base = { version: '1', source: 's', uptimeMs: 1_000, targets: 1, paused: 0, checksLastMinute: 1, overdue: 0, running: 0, storeMs: 1, outboxDepth: 0, telegramErrorsLastHour: 0, store: { ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 } };
    const text = healthText(
      {
        ...base,
        destinations: [
          { chatId: 1, name: 'ops', kind: 'slack', lastOkAt: Date.UTC(2026, 0, 1, 10, 0, 0), depth: 0, paused: false },
          { chatId: 1, name: 'pd', kind: 'pagerduty', lastOkAt: Date.UTC(2026, 0, 1, 9, 0, 0), lastErrorAt: Date.UTC(2026, 0, 1, 10, 5, 0), lastError: 'HTTP 503', depth: 2, paused: false },
          { chatId: 2, name: 'elsewhere', kind: 'email', depth: 0, paused: false },
        ],
      },
      1,
    );
    expect(text).toContain('✅ ops (slack): last delivered 10:00:00 UTC');
    expect(text).toContain('⚠️ pd (pagerduty): last delivered 09:00:00 UTC · last error 10:05:00 UTC: HTTP 503 · 2 waiting');
    expect(text).not.toContain('elsewhere');
  });
});
