import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { buttonsOf, textOf, type RecordedCall } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

const HAS_MTR = existsSync('/usr/bin/mtr') || existsSync('/usr/sbin/mtr') || existsSync('/bin/mtr');
if (!HAS_MTR && process.env.CI) throw new Error('CI must install mtr-tiny (.ci/run does): these tests run the real mtr');
if (!HAS_MTR) console.warn('⚠️ mtr is not installed: the /trace tests are skipped (apt-get install mtr-tiny)');

/** Fast traces against loopback: one cycle, 0.1 s apart (mtr allows under 1 s only to root, as CI is). */
const FAST = { TRACE_CYCLES: '1', TRACE_INTERVAL: process.getuid?.() === 0 ? '0.1' : '1', TRACE_TIMEOUT: '10' };

let rig: AppRig | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const text = textOf;

/** A stand-in mtr: a script that records each start in `marker` and then does `then`. */
async function fakeMtr(then: string): Promise<{ path: string; marker: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-mtr-'));
  dirs.push(dir);
  const path = join(dir, 'mtr');
  const marker = join(dir, 'started');
  await writeFile(path, `#!/bin/sh\necho "$@" >> "${marker}"\n${then}\n`);
  await chmod(path, 0o755);
  return { path, marker };
}

describe.skipIf(!HAS_MTR)('/trace', () => {
  it('traces an IP address with the real mtr and edits the progress message into the report', async () => {
    rig = await startAppRig(FAST);
    await rig.say('/trace 127.0.0.1', 'Tracing');
    const report = await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('<pre>'), 10_000);
    expect(text(report)).toContain('Trace to <b>127.0.0.1</b> from test-runner (127.0.0.1)');
    expect(text(report)).toMatch(/1\.\|-- 127\.0\.0\.1/);
  });

  it('traces the host of a target given by name', async () => {
    rig = await startAppRig(FAST);
    await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
    await rig.say('/trace api', 'Tracing');
    const report = await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('<pre>'), 10_000);
    expect(text(report)).toContain('<b>127.0.0.1</b>');
  });

  it('refuses anything that is not a host name, an IP or a target, and never starts mtr for it', async () => {
    const mtr = await fakeMtr('exec mtr "$@"');
    rig = await startAppRig({ ...FAST, MTR_PATH: mtr.path });
    const bad = ['-rf', '--tcp', 'a;id', '$(id)', 'x.example|cat', 'http://x.example/', 'x.example:443', 'a b', 'пример.рф', `${'a'.repeat(64)}.example`];
    for (const input of bad) {
      const reply = await rig.say(`/trace ${input}`, '⚠️');
      expect(text(reply)).toContain('give a host name like api.example.com');
    }
    await rig.say('/trace', 'give a host name');
    expect(existsSync(mtr.marker)).toBe(false);
    await rig.say('/trace localhost', 'Tracing');
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('Trace to'), 10_000);
    expect(readFileSync(mtr.marker, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(mtr.marker, 'utf8')).toMatch(/-- localhost$/m);
  });

  it('runs one trace at a time per chat', async () => {
    const mtr = await fakeMtr('sleep 3; exec mtr "$@"');
    rig = await startAppRig({ ...FAST, MTR_PATH: mtr.path });
    await rig.say('/trace 127.0.0.1', 'Tracing');
    await rig.say('/trace 127.0.0.1', 'already running');
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('<pre>'), 10_000);
    await rig.say('/trace 127.0.0.1', 'Tracing');
  });

  it('says how to install mtr when it is missing', async () => {
    rig = await startAppRig({ ...FAST, MTR_PATH: '/nonexistent/mtr' });
    await rig.say('/trace 127.0.0.1', 'Tracing');
    const report = await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('failed'));
    expect(text(report)).toContain('apt-get install mtr-tiny');
  });
});

describe.skipIf(!HAS_MTR)('traces attached to alerts', () => {
  async function refusedAlert(r: AppRig): Promise<number> {
    const port = await closedPort();
    await r.say(`/add http://127.0.0.1:${port}/health name=api confirm=1`, 'Added');
    await r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    return r.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
  }

  it('an alert for a refused connection is followed by its trace, added to the alert', async () => {
    rig = await startAppRig(FAST);
    const alertId = await refusedAlert(rig);
    const alert = rig.telegram.callsOf('sendMessage').find((c) => text(c).includes('is DOWN'))!;
    expect(text(alert)).toContain('connection refused');
    expect(text(alert)).not.toContain('<pre>');
    const edit = await rig.telegram.waitFor('editMessageText', (c) => c.payload.message_id === alertId && text(c).includes('<pre>'), 10_000);
    expect(text(edit)).toContain('is DOWN');
    expect(text(edit)).toContain('Trace to <b>127.0.0.1</b>');
    expect((edit.payload.reply_markup as { inline_keyboard: unknown[][] }).inline_keyboard[0]).toHaveLength(4);
  });

  it('a trace that fails or times out leaves the alert as it was sent and says so', async () => {
    const mtr = await fakeMtr('sleep 30');
    rig = await startAppRig({ ...FAST, MTR_PATH: mtr.path, TRACE_TIMEOUT: '1' });
    const alertId = await refusedAlert(rig);
    const edit = await rig.telegram.waitFor('editMessageText', (c) => c.payload.message_id === alertId && text(c).includes('Trace to'), 10_000);
    expect(text(edit)).toContain('failed: the trace took longer than 1s');
    expect(text(edit)).toContain('connection refused');
  });

  it('does not trace alerts for failures above the network (HTTP status)', async () => {
    const mtr = await fakeMtr('exec mtr "$@"');
    rig = await startAppRig({ ...FAST, MTR_PATH: mtr.path });
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1`, 'Added');
    rig.server.setStatus(503);
    await rig.say('/check api', 'state DOWN');
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(mtr.marker)).toBe(false);
  });
});
