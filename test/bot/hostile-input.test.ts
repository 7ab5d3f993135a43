import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';

// Hostile input (issue 13) through the fake Bot API: a value of 5,000 characters is answered with the
// specific error, short, never with "Something went wrong" (what a reply over 4,096 characters got);
// header lines HTTP or undici would refuse are refused at /add and /edit, saying why.

const LONG = 'x'.repeat(5_000);

let rig: AppRig;
beforeAll(async () => {
  rig = await startAppRig();
  await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
  await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
});
afterAll(async () => {
  await rig.close();
});

/** Sends `text` and returns the next message the bot sends to the group, whatever it says. */
async function replyTo(text: string): Promise<{ text: string; failed: boolean }> {
  const call = await rig.say(text);
  return { text: textOf(call), failed: call.failed === true };
}

describe('a 5,000-character argument gets its specific error, short', () => {
  it.each([
    ['/add with a long name', `/add https://api.example.com/ name=${LONG}`, 'name must be 1-32 characters'],
    ['/add with a long URL', `/add https://api.example.com/${LONG}`, 'URL must be at most 2048 characters, got 5024'],
    ['/add with a long host', `/add tcp ${LONG}.example:80`, 'tcp target must be host:port'],
    ['/add with a long option key', `/add https://api.example.com/ ${LONG}=1`, 'unknown option'],
    ['/add with a long interval', `/add https://api.example.com/ every=${LONG}`, 'every must be a duration'],
    ['/add with a long stray word', `/add https://api.example.com/ ${LONG}`, 'options are written key=value'],
    ['/edit of a long name', `/edit ${LONG} every=30s`, 'No target named'],
    ['/edit with a long value', `/edit api every=${LONG}`, 'every must be a duration'],
    ['/status', `/status ${LONG}`, 'No target named'],
    ['/remove', `/remove ${LONG}`, 'No target named'],
    ['/check', `/check ${LONG}`, 'No target named'],
    ['/settings with a long time zone', `/settings tz=Europe/${LONG}`, 'unknown time zone'],
    ['/settings with a long escalation', `/settings escalate=${LONG}`, 'escalate must be a duration'],
    ['/settings with a long key', `/settings ${LONG}=1`, 'unknown setting'],
    ['/report with a long period', `/report ${LONG}`, 'the period must be 7d, 30d'],
    ['/history with a long period', `/history api ${LONG}`, 'the period must be 24h, 7d, 30d'],
    ['/oncall with a long mention', `/oncall @${LONG}`, 'is not a mention'],
    ['/mute of a long name', `/mute ${LONG} 1h`, 'No target named'],
    ['/maintenance with a long duration', `/maintenance api now ${LONG}`, 'duration must be'],
    ['/maintenance cancel of a long id', `/maintenance cancel ${LONG}`, 'no window with id'],
    ['/trace of a long host', `/trace ${LONG}`, 'give a host name'],
  ])('%s', async (_, command, expected) => {
    const reply = await replyTo(command);
    expect(reply.failed).toBe(false);
    expect(reply.text).toContain(expected);
    expect(reply.text).not.toContain('Something went wrong');
    // The error line itself is short; the usage line after it is the command's own.
    expect(reply.text.split('\n')[0]!.length).toBeLessThan(300);
    expect(reply.text.length).toBeLessThan(500);
  });

  it('shows the first of very many problems and counts the rest, within the limit', async () => {
    const options = Array.from({ length: 400 }, (_, i) => `bad${i}=1`).join(' ');
    const reply = await replyTo(`/add https://api.example.com/ ${options}`);
    expect(reply.failed).toBe(false);
    expect(reply.text).toContain('unknown option &quot;bad0&quot;');
    expect(reply.text).toMatch(/… and \d+ more/);
    expect(reply.text.length).toBeLessThanOrEqual(4_096);
  });

  it('refuses a long /oncall list of words one by one, within the limit', async () => {
    const reply = await replyTo(`/oncall ${Array.from({ length: 1_000 }, (_, i) => `word${i}`).join(' ')}`);
    expect(reply.failed).toBe(false);
    expect(reply.text).toContain('is not a mention');
    expect(reply.text.length).toBeLessThanOrEqual(4_096);
  });

  it.each([
    ['/add', '/add https://api.example.com/ name=fire header="X-E: 🔥"', 'has a character outside ASCII in its value'],
    ['/add', '/add https://api.example.com/ name=te header="Transfer-Encoding: chunked"', 'Lookout sets Transfer-Encoding itself'],
    ['/add', '/add https://api.example.com/ name=host header="Host: evil.example"', 'Lookout sets Host from the URL'],
    ['/add', '/add https://api.example.com/ name=cl header="Content-Length: 0"', 'Lookout sets Content-Length itself'],
    ['/edit', '/edit api header="X-Token: s3cr3t\u0001"', 'control character'],
    ['/edit', '/edit api header="Connection: close"', 'Lookout manages the connection itself'],
  ])('%s refuses a header line HTTP does not allow: %s', async (_, command, expected) => {
    const reply = await replyTo(command);
    expect(reply.text).toContain(expected);
    expect(reply.text).not.toContain('s3cr3t');
  });

  it('changed nothing in the chat', async () => {
    const list = await rig.say('/list', 'Targets');
    expect(textOf(list)).toContain('<b>Targets</b> (1)');
    const settings = await rig.say('/settings', 'Settings of this chat');
    expect(textOf(settings)).toContain('tz=UTC, escalate=off');
    expect(rig.telegram.messages(GROUP).some((m) => m.text?.includes('Something went wrong'))).toBe(false);
  });
});
