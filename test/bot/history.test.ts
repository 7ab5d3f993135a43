import { afterEach, describe, expect, it } from 'vitest';
import { statsFor } from '../../src/reports/period.js';
import { historyCaption } from '../../src/reports/texts.js';
import { GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { textOf } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

/** A day of one check a minute for `id` (a 30-minute outage six hours ago), and the timeline to match. */
function seed(r: AppRig, id: string): void {
  const h = r.app.history;
  const downAt = NOW - 6 * HOUR;
  h.change(id, NOW - 8 * 86_400_000, 'UP');
  for (let t = NOW - 24 * HOUR; t < NOW; t += MIN) {
    const down = t >= downAt && t < downAt + 30 * MIN;
    h.record(id, down ? { ok: false, latencyMs: 10_000, reason: 'timeout after 10s', at: t } : { ok: true, latencyMs: 100 + ((t / MIN) % 50), at: t });
  }
  h.change(id, downAt + MIN, 'DOWN');
  h.change(id, downAt + 30 * MIN, 'UP');
}

async function start(): Promise<AppRig> {
  const r = await startAppRig({}, undefined, { clock: new FakeClock(NOW) });
  await r.say(`/add ${r.server.url}/health name=api`, 'Added');
  await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
  return r;
}

describe('/history', () => {
  it('sends a PNG chart whose caption has the numbers of the aggregates', async () => {
    rig = await start();
    const id = `${GROUP}/api`;
    seed(rig, id);
    await rig.app.history.flush();
    rig.telegram.sendText({ chatId: GROUP, userId: MEMBER, text: '/history api' });
    const photo = await rig.telegram.waitFor('sendPhoto');
    const file = photo.files?.[0];
    expect(file?.field).toBe('photo');
    expect(file?.content.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(file?.content.readUInt32BE(16)).toBe(960);
    expect(file!.bytes).toBeGreaterThan(10_000);
    const stats = await statsFor(rig.app.history, id, '24h', NOW);
    const caption = String(photo.payload.caption);
    expect(caption).toBe(historyCaption('api', '24h', stats));
    // The first check ran at NOW itself, just outside [NOW - 24h, NOW).
    expect(stats.summary.checks).toBe(24 * 60);
    expect(stats.summary.failures).toBe(30);
    expect(stats.availability.incidents).toBe(1);
    expect(caption).toContain('downtime 29m');
    expect(caption).toContain('1 incident');
    expect(caption).toMatch(/Uptime 97\.9\d%/);
    expect(caption).toContain('Checks 1,440 (30 failed)');
    expect(caption).toContain('Top failures: timeout after 10s ×30');
    expect(photo.payload.parse_mode).toBe('HTML');
  });

  it('7d and 30d read the hourly buckets; bad input is answered and changes nothing', async () => {
    rig = await start();
    seed(rig, `${GROUP}/api`);
    rig.telegram.sendText({ chatId: GROUP, userId: MEMBER, text: '/history api 7d' });
    const week = await rig.telegram.waitFor('sendPhoto');
    expect(String(week.payload.caption)).toContain('last 7d');
    expect(String(week.payload.caption)).toContain('Checks 1,440');
    expect(textOf(await rig.say('/history', 'give the name'))).toContain('Usage: <code>/history NAME [24h|7d|30d]</code>');
    expect(textOf(await rig.say('/history nope', 'No target'))).toContain('No target named "nope"');
    expect(textOf(await rig.say('/history api 1y', 'period'))).toContain('the period must be 24h, 7d, 30d, got &quot;1y&quot;');
  });
});

describe('/report', () => {
  it('tables every target with uptime, incidents, downtime, p95 and trend, and flags targets under their SLA', async () => {
    rig = await start();
    await rig.say(`/add tcp 127.0.0.1:${rig.server.port} name=db`, 'Added');
    seed(rig, `${GROUP}/api`);
    const report = textOf(await rig.say('/report', 'SLA report', MEMBER));
    expect(report).toContain('last 7d');
    // 29 minutes down in a week that was otherwise UP, after a week that was UP throughout.
    expect(report).toMatch(/<pre>target +uptime +inc +down +p95 +trend\napi +99\.71% +1 +29m +\d+ ms +▼0\.29\ndb +— +0 +0s +— +<\/pre>/);
    expect(report).toContain('Set sla=99.9 on a target');
    await rig.say('/edit api sla=99.9', 'Updated');
    const flagged = textOf(await rig.say('/report 30d', 'SLA report', MEMBER));
    expect(flagged).toContain('last 30d');
    expect(flagged).toMatch(/api .* ⚠/);
    expect(flagged).toMatch(/⚠️ Under SLA \(1\): <b>api<\/b> \(99\.\d\d% &lt; 99\.9%\)/);
    expect(textOf(await rig.say('/report 24h', 'period'))).toContain('the period must be 7d, 30d, got &quot;24h&quot;');
  });
});

describe('/status', () => {
  it('shows uptime over 24 h and 7 d and the last hour as a sparkline', async () => {
    rig = await start();
    const id = `${GROUP}/api`;
    seed(rig, id);
    rig.app.history.record(id, { ok: false, latencyMs: 5, reason: 'HTTP 503', at: NOW - 2 * MIN });
    const status = textOf(await rig.say('/status api', 'Uptime:', MEMBER));
    expect(status).toMatch(/Uptime: 24h 97\.9\d% · 7d 99\.\d\d%/);
    const line = /Last hour: <code>(.*)<\/code>/.exec(status)?.[1] ?? '';
    expect([...line]).toHaveLength(60);
    expect([...line][57]).toBe('×');
    expect(line).toMatch(/[▁▂▃▄▅▆▇█]/);
  });
});
