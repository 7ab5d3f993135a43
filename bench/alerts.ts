// npm run bench:alerts [-- --alerts 200 --storm 500 --json]
// 1. Alert latency per channel: from the end of the failing check to the request at the (fake) Bot
//    API and at loopback receivers for a webhook, Slack and PagerDuty, through the real app: state
//    machine → policy → outbox persisted in SQLite → each channel. Each alert is in its own chat, so
//    neither Telegram's per-chat pacing nor storm grouping applies.
// 2. A storm: `--storm` targets of one chat failing at once, with the chat and three destinations:
//    messages per destination in the first minute, and whether every target was named.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Destination } from '../src/alerts/destinations.js';
import { parseEnv } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { startApp } from '../src/main.js';
import { openStore, type KeyvStore } from '../src/store/keyv.js';
import { createTargetRepository } from '../src/store/targets.js';
import { startFakeTelegram, type FakeTelegram } from '../test/support/fake-telegram.js';
import { startReceiver, type Receiver } from '../test/support/receiver.js';
import { closedPort, httpTarget } from '../test/support/target-server.js';
import { quantile, round } from './stats.js';

const { values: args } = parseArgs({
  options: { alerts: { type: 'string', default: '200' }, storm: { type: 'string', default: '500' }, json: { type: 'boolean', default: false } },
});
const N = Number(args.alerts);
const STORM = Number(args.storm);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const KEY = 'R0123456789abcdef0123456789ABCDE';

/** The receivers of a run: loopback HTTP servers and a real SMTP server. */
interface Peers {
  hook: Receiver;
  slack: Receiver;
  pd: Receiver;
  discord: Receiver;
  smtp: { url: string; mails: string[]; close(): Promise<void> };
}

/** The destinations of a chat, at the receivers. */
function destinationsOf(chatId: number, r: Peers): Destination[] {
  const base = { chatId, events: ['down', 'up'] as Destination['events'], createdAt: 0 };
  return [
    { ...base, id: `webhook:${chatId}:hook`, name: 'hook', kind: 'webhook', settings: { url: `${r.hook.url}/hook` } },
    { ...base, id: `slack:${chatId}:team`, name: 'team', kind: 'slack', settings: { mode: 'webhook', url: `${r.slack.url}/services/T/B/x` } },
    { ...base, id: `pagerduty:${chatId}:oncall`, name: 'oncall', kind: 'pagerduty', settings: { routingKey: KEY, severity: 'critical' }, events: ['down', 'up', 'ack'] },
    { ...base, id: `discord:${chatId}:chan`, name: 'chan', kind: 'discord', settings: { url: `${r.discord.url}/api/webhooks/1/t` } },
    { ...base, id: `email:${chatId}:list`, name: 'list', kind: 'email', settings: { to: ['ops@example.com'] } },
  ];
}

/** A real SMTP server (the smtp-server package) that keeps every mail. */
async function startSmtp(): Promise<Peers['smtp']> {
  const { SMTPServer } = await import('smtp-server');
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8').replace(/=\r?\n/g, ''));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function seedChat(store: KeyvStore, chatId: number, names: string[], port: number, r: Peers): Promise<void> {
  const repo = createTargetRepository(store);
  for (const name of names) await repo.put(httpTarget({ id: `${chatId}/${name}`, chatId, name, url: `http://127.0.0.1:${port}/${name}`, everyMs: 3_600_000, confirm: 1, remindMs: 0 }));
  const destinations = store.namespace<Destination>('destinations');
  for (const d of destinationsOf(chatId, r)) await destinations.set(d.id, d);
}

/** The app over `dataDir` with the fake Bot API and the receivers. */
async function boot(dataDir: string, telegram: FakeTelegram, r: Peers, chats: string) {
  const parsed = parseEnv({
    BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ALLOWED_CHAT_IDS: chats,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    HTTP_PORT: '0',
    PAGERDUTY_EVENTS_URL: `${r.pd.url}/v2/enqueue`,
    SMTP_URL: r.smtp.url,
    SMTP_FROM: 'lookout@example.com',
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return startApp(parsed.config, { logger: createLogger('silent'), pollTimeoutS: 30 });
}

async function latencies(telegram: FakeTelegram, r: Peers) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lookout-bench-alerts-'));
  const port = await closedPort();
  const seed = await openStore({ kind: 'sqlite', dataDir });
  const chatOf = (i: number): number => -1_000_000_000 - i;
  for (let i = 0; i < N; i++) await seedChat(seed, chatOf(i), [`t${i}`], port, r);
  await seed.close();
  const app = await boot(dataDir, telegram, r, '-1');
  const downAt = new Map<string, number>();
  // Telegram's latency is read off the fake Bot API's arrival time (Date.now), against the DOWN's wall time:
  // a target whose own scheduled check found it DOWN before the loop got to it was told at once, and
  // measuring from when the loop saw the message would count the loop's wait as latency.
  const downWall = new Map<string, number>();
  app.engine.onChange((change, target) => {
    if (change.to === 'DOWN') {
      downAt.set(target.name, performance.now());
      downWall.set(target.name, Date.now());
    }
  });
  const at = { telegram: [] as number[], webhook: [] as number[], slack: [] as number[], pagerduty: [] as number[], discord: [] as number[], email: [] as number[] };
  const seen = (list: number[], name: string): void => void list.push(performance.now() - downAt.get(name)!);
  const watch = (source: Receiver | string[], list: number[], nameOf: (body: string) => string | undefined): (() => void) => {
    const bodies = (): string[] => (Array.isArray(source) ? source : source.requests.map((q) => q.body));
    let n = bodies().length;
    const timer = setInterval(() => {
      const all = bodies();
      for (; n < all.length; n++) {
        const name = nameOf(all[n]!);
        if (name) seen(list, name);
      }
    }, 1);
    return () => clearInterval(timer);
  };
  // The receivers take the time a request arrives; performance.now() at each is read right away.
  const stop = [
    watch(r.hook, at.webhook, (b) => (JSON.parse(b) as { target?: { name: string } }).target?.name),
    watch(r.slack, at.slack, (b) => /^(\S+) is DOWN/.exec((JSON.parse(b) as { text: string }).text)?.[1]),
    watch(r.pd, at.pagerduty, (b) => (JSON.parse(b) as { payload?: { component: string } }).payload?.component),
    watch(r.discord, at.discord, (b) => /^🔴 (\S+) is DOWN/.exec((JSON.parse(b) as { embeds: Array<{ title: string }> }).embeds[0]?.title ?? '')?.[1]),
    watch(r.smtp.mails, at.email, (b) => /^Subject: \[Lookout\] DOWN: (\S+)/m.exec(b)?.[1]),
  ];
  try {
    for (let i = 0; i < N; i++) {
      await app.engine.checkNow(`${chatOf(i)}/t${i}`);
      const sent = await telegram.waitFor('sendMessage', (c) => c.payload.chat_id === chatOf(i), 10_000);
      at.telegram.push(sent.at - downWall.get(`t${i}`)!);
      // Stay under the global 30 messages/s so the measure is not throttling.
      await sleep(50);
    }
    await sleep(500);
  } finally {
    for (const s of stop) s();
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const summary = (list: number[]) => ({ n: list.length, p50: round(quantile(list, 0.5), 1), p99: round(quantile(list, 0.99), 1), max: round(quantile(list, 1), 1) });
  return Object.fromEntries(Object.entries(at).map(([k, v]) => [k, summary(v)]));
}

async function storm(telegram: FakeTelegram, r: Peers) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lookout-bench-storm-'));
  const port = await closedPort();
  const chat = -1_000_000_999_999;
  const names = Array.from({ length: STORM }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const seed = await openStore({ kind: 'sqlite', dataDir });
  await seedChat(seed, chat, names, port, r);
  await seed.close();
  const before = { telegram: telegram.callsOf('sendMessage').length, hook: r.hook.requests.length, slack: r.slack.requests.length, pd: r.pd.requests.length, discord: r.discord.requests.length, mails: r.smtp.mails.length };
  const app = await boot(dataDir, telegram, r, String(chat));
  try {
    const t0 = Date.now();
    await Promise.all(names.map((n) => app.engine.checkNow(`${chat}/${n}`)));
    while (Date.now() - t0 < 60_000) await sleep(500);
    const sent = {
      telegram: telegram.callsOf('sendMessage').slice(before.telegram).filter((c) => c.payload.chat_id === chat && !c.failed).map((c) => String(c.payload.text)),
      slack: r.slack.requests.slice(before.slack).map((x) => x.body),
      discord: r.discord.requests.slice(before.discord).map((x) => x.body),
      email: r.smtp.mails.slice(before.mails),
      // Neither groups, by design: a webhook tells each event, PagerDuty holds each incident.
      webhook_ungrouped: r.hook.requests.slice(before.hook).map((x) => x.body),
      pagerduty_ungrouped: r.pd.requests.slice(before.pd).map((x) => x.body),
    };
    const named = (bodies: string[]): boolean => {
      const all = bodies.join('\n');
      return names.every((n) => all.includes(n));
    };
    return Object.fromEntries(Object.entries(sent).map(([k, bodies]) => [k, { messages: bodies.length, every_target_named: named(bodies) }]));
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const telegram = await startFakeTelegram();
  const r: Peers = { hook: await startReceiver(), slack: await startReceiver(), pd: await startReceiver(), discord: await startReceiver(), smtp: await startSmtp() };
  r.pd.answer({ status: 202, body: '{"status":"success"}' });
  try {
    const latency = await latencies(telegram, r);
    const flood = await storm(telegram, r);
    const result = { bench: 'alerts', alerts: N, latency_ms: latency, storm_targets: STORM, storm_first_minute: flood };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    console.log(`alert latency, failing check → request at the channel (${N} alerts, ms)        goal p99 < 50 (Telegram), < 100 (others)`);
    for (const [channel, s] of Object.entries(latency)) console.log(`  ${channel.padEnd(10)} n=${String(s.n).padStart(4)}  p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  max ${String(s.max).padStart(6)}`);
    console.log(`storm: ${STORM} targets of one chat failing at once, first minute                    goal ≤ 10 messages per grouping destination, every target named`);
    for (const [channel, s] of Object.entries(flood)) console.log(`  ${channel.padEnd(10)} messages ${String(s.messages).padStart(4)}  every target named: ${s.every_target_named}`);
  } finally {
    await telegram.close();
    for (const x of Object.values(r)) await x.close();
  }
}

await main();
