import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifySmtp, emailChannel } from '../../../../src/alerts/channels/email/spec.js';
import { createOutbox, type DeliveryEvent, type Outbox } from '../../../../src/alerts/outbox.js';
import type { Notification } from '../../../../src/domain/notification.js';
import { openStore, type KeyvStore } from '../../../../src/store/keyv.js';
import { GROUP, startAppRig, type AppRig } from '../../../support/app-rig.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { textOf } from '../../../support/fake-telegram.js';
import { down, NOTE_CHAT, up } from '../../../support/notifications.js';

const DEST = `email:${NOTE_CHAT}:ops`;
const PASSWORD = 'smtp-Pa55word!';

/** A real SMTP server on 127.0.0.1 with AUTH: every mail as it arrived, raw. */
interface MailServer {
  url: string;
  mails: Array<{ from: string; to: string[]; raw: string }>;
  /** The next `n` mails are refused with this reply code. */
  refuseNext(code: number, n?: number): void;
  close(): Promise<void>;
}

async function startMailServer(): Promise<MailServer> {
  const mails: MailServer['mails'] = [];
  let refusing: { code: number; n: number } | undefined;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'lookout' && auth.password === PASSWORD) cb(null, { user: 'lookout' });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusing && refusing.n > 0) {
          refusing.n--;
          return cb(Object.assign(new Error('try again later'), { responseCode: refusing.code }));
        }
        mails.push({ from: String(session.envelope.mailFrom && session.envelope.mailFrom.address), to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://lookout:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
    mails,
    refuseNext: (code, n = 1) => void (refusing = { code, n }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const header = (raw: string, name: string): string | undefined => new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ');

describe('email settings', () => {
  it('needs SMTP_URL, and takes up to 20 addresses', () => {
    expect(emailChannel.parse('ops@example.com', new Map(), {}).ok).toBe(false);
    const env = { SMTP_URL: 'smtp://u:p@mail.example.com:587' };
    expect(emailChannel.parse('Ops@Example.com, oncall@example.com', new Map(), env)).toEqual({ ok: true, value: { to: ['ops@example.com', 'oncall@example.com'] } });
    const bad = emailChannel.parse('ops@example.com,not-an-address', new Map(), env);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toBe('"not-an-address" is not an e-mail address');
  });
  it('classifies SMTP answers', () => {
    expect(classifySmtp({ code: 'EAUTH', responseCode: 535 })).toMatchObject({ action: 'drop', gone: true });
    expect(classifySmtp({ code: 'EMESSAGE', responseCode: 451 })).toEqual({ action: 'retry' });
    expect(classifySmtp({ code: 'ECONNECTION' })).toEqual({ action: 'retry' });
    expect(classifySmtp({ code: 'EENVELOPE', responseCode: 550 })).toMatchObject({ action: 'drop', gone: true });
    expect(classifySmtp({ code: 'EMESSAGE', responseCode: 552 })).toMatchObject({ action: 'drop' });
  });
});

describe('email deliveries', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let smtp: MailServer;
  let outbox: Outbox;
  let events: DeliveryEvent[];

  const start = async (url = smtp.url): Promise<void> => {
    const channel = emailChannel.create({ clock, store, env: { SMTP_URL: url, SMTP_FROM: 'lookout@example.com' }, settings: () => ({ to: ['ops@example.com'] }), allowMetadata: false });
    outbox = createOutbox({ store, channels: new Map([['email', channel]]), clock, baseBackoffMs: 1_000, maxBackoffMs: 10_000, probeEveryMs: 3_600_000 });
    outbox.onDelivery((e) => events.push(e));
    await outbox.start();
  };
  const tell = async (...list: Notification[]): Promise<void> => {
    for (const n of list) await outbox.enqueue(n, [DEST]);
  };
  const until = async (done: () => boolean, seconds = 60): Promise<void> => {
    for (let s = 0; s < seconds && !done(); s++) {
      await clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 40));
    }
    if (!done()) throw new Error('not in time');
  };

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    smtp = await startMailServer();
    events = [];
  });
  afterEach(async () => {
    await outbox.stop(1_000);
    await smtp.close();
    await store.close();
  });

  it('the alert as text and HTML, its resolution a reply in its thread; a storm is one mail naming every target', async () => {
    await start();
    await tell(down('api'));
    await until(() => smtp.mails.length === 1);
    const alert = smtp.mails[0]!;
    expect(alert.from).toBe('lookout@example.com');
    expect(alert.to).toEqual(['ops@example.com']);
    expect(header(alert.raw, 'Subject')).toBe('[Lookout] DOWN: api');
    expect(alert.raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(alert.raw).toMatch(/Content-Type: text\/plain/i);
    expect(alert.raw).toMatch(/Content-Type: text\/html/i);
    expect(alert.raw).toContain('api is DOWN (https://api.example.com/health)');
    const messageId = header(alert.raw, 'Message-ID')!;
    expect(messageId).toMatch(/^<i-api\.down\.[0-9a-f]{8}@example\.com>$/);

    await clock.advance(30_000);
    await tell(up('api'));
    await until(() => smtp.mails.length === 2);
    const resolution = smtp.mails[1]!;
    expect(header(resolution.raw, 'Subject')).toBe('[Lookout] UP again: api');
    expect(header(resolution.raw, 'In-Reply-To')).toBe(messageId);
    expect(header(resolution.raw, 'References')).toBe(messageId);

    await clock.advance(120_000);
    await tell(down('first'));
    await until(() => smtp.mails.length === 3);
    await tell(...Array.from({ length: 150 }, (_, i) => down(`storm-${i}`)));
    await until(() => smtp.mails.length === 4);
    const storm = smtp.mails[3]!;
    expect(header(storm.raw, 'Subject')).toBe('[Lookout] 150 targets DOWN');
    const text = storm.raw.replace(/=\r?\n/g, '');
    for (let i = 0; i < 150; i++) expect(text).toContain(`storm-${i} is DOWN`);
    expect(smtp.mails).toHaveLength(4);
  });

  it('a server answering 451 for a while: the mail is delivered once when it accepts again', async () => {
    await start();
    smtp.refuseNext(451, 4);
    await tell(down('api'));
    await until(() => smtp.mails.length === 1, 120);
    expect(events.filter((e) => e.outcome === 'retry')).toHaveLength(4);
    expect(smtp.mails).toHaveLength(1);
  });

  it('a refused login pauses the destination: the chat is told to fix SMTP_URL', async () => {
    await start(smtp.url.replace(encodeURIComponent(PASSWORD), 'wrong-password'));
    await tell(down('api'));
    await until(() => events.length > 0, 30);
    expect(events[0]).toMatchObject({ outcome: 'paused' });
    expect(events[0]!.why).toContain('check SMTP_URL');
  });
});

describe('email through the app', () => {
  let rig: AppRig | undefined;
  let smtp: MailServer | undefined;
  afterEach(async () => {
    await rig?.close();
    await smtp?.close();
  });

  it('/notify add email; an outage becomes a mail; the SMTP password is never logged', async () => {
    smtp = await startMailServer();
    rig = await startAppRig({ SMTP_URL: smtp.url, SMTP_FROM: 'lookout@example.com' });
    await rig.say('/notify add email ops ops@example.com', 'Added');
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    for (let i = 0; i < 100 && smtp.mails.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(header(smtp.mails[0]!.raw, 'Subject')).toBe('[Lookout] DOWN: api');
    expect(rig.logs.join('\n')).not.toContain(PASSWORD);
  });
});
