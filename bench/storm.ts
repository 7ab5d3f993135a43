// npm run bench:storm [-- --targets 300 --flip 25 --duration 1200 --kills 10 --seed 1 --json]
// (node dist-bench/bench/storm.js --rescore RUN_DIR scores a kept run again)
// Storm and kill: the built process (node dist/main.js) watches targets that flip between 200 and 503,
// is killed with SIGKILL at random moments and restarted at once on the same DATA_DIR; at the end every
// target recovers. Counted from the Bot API calls and the targets' request logs only: outages never
// told, resolutions lost, out-of-order and duplicated messages. `--slow-telegram MS` answers sendMessage
// after MS and stops with SIGTERM instead (the clean stop with a slow Telegram).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buttonsOf, startFakeTelegram, type RecordedCall } from '../test/support/fake-telegram.js';
import { closedPort } from '../test/support/target-server.js';
import { startFlipServer, type FlipServer } from './flip-server.js';
import { readChat, stillOpen } from './storm-chat.js';
import { replayOutages, scoreStorm, type Blackout } from './storm-oracle.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '300' },
    flip: { type: 'string', default: '25' },
    duration: { type: 'string', default: '1200' },
    kills: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'slow-telegram': { type: 'string', default: '0' },
    // Answers this close before a kill may have died with the process (the lenient replay ignores them).
    'fuzz-ms': { type: 'string', default: '1000' },
    // The run is over when no Bot API call (but getUpdates) came for this long after the targets settled.
    quiet: { type: 'string', default: '30' },
    'drain-max': { type: 'string', default: '900' },
    json: { type: 'boolean', default: false },
    // Scores the run kept in DIR (its raw.json) again instead of running one.
    rescore: { type: 'string' },
  },
});

const TARGETS = Number(args.targets);
const FLIP_MS = Number(args.flip) * 1_000;
const DURATION_MS = Number(args.duration) * 1_000;
const KILLS = Number(args.kills);
const SEED = Number(args.seed);
const SLOW_MS = Number(args['slow-telegram']);
const FUZZ_MS = Number(args['fuzz-ms']);
const QUIET_MS = Number(args.quiet) * 1_000;
const DRAIN_MAX_MS = Number(args['drain-max']) * 1_000;
const STOP_SIGNAL: NodeJS.Signals = SLOW_MS > 0 ? 'SIGTERM' : 'SIGKILL';
const CHAT_ID = -1_001_000_000_013;
const RULES = { confirm: 2, recover: 1 } as const;
const ROOT = process.cwd();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: string): void => void process.stderr.write(`storm: ${line}\n`);

/** mulberry32: a small seeded generator, so a seed gives the same phases and kill moments. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `kills` moments (ms after the start): one in each equal slot of the run, at least ~20 s apart. */
function killMoments(random: () => number, kills: number, durationMs: number): number[] {
  if (kills <= 0) return [];
  const margin = Math.min(15_000, durationMs / 10);
  const slot = (durationMs - 2 * margin) / kills;
  // 10 s kept free at both ends of each slot keeps neighbours 20 s apart (less when slots are short).
  const pad = Math.min(10_000, slot / 2);
  return Array.from({ length: kills }, (_, k) => Math.round(margin + k * slot + pad + random() * (slot - 2 * pad)));
}

const nameOf = (i: number): string => `t${String(i).padStart(3, '0')}`;

function targetsYaml(origin: string): string {
  const lines = ['version: 1', `chat: ${CHAT_ID}`, 'targets:'];
  for (let i = 0; i < TARGETS; i++) lines.push(`  - { name: ${nameOf(i)}, url: "${origin}/t${i}", every: 10s }`);
  return `${lines.join('\n')}\n`;
}

interface Run {
  child: ChildProcess;
  httpPort: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stopping: boolean;
}

async function main(): Promise<void> {
  const entry = join(ROOT, 'dist', 'main.js');
  await access(entry).catch(() => {
    throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench:storm does)');
  });
  const random = seededRandom(SEED);
  const phases = Array.from({ length: TARGETS }, () => Math.floor(random() * 2 * FLIP_MS));
  const kills = killMoments(random, KILLS, DURATION_MS);
  const dir = await mkdtemp(join(tmpdir(), `lookout-storm-s${SEED}-`));
  const dataDir = join(dir, 'data');
  const telegram = await startFakeTelegram(SLOW_MS > 0 ? { answerDelayMs: { sendMessage: SLOW_MS } } : {});
  const flip: FlipServer = await startFlipServer({ flipMs: FLIP_MS, phasesMs: phases });
  const targetsFile = join(dir, 'targets.yaml');
  await writeFile(targetsFile, targetsYaml(flip.origin));
  say(`${TARGETS} targets flipping every ${FLIP_MS / 1_000} s for ${DURATION_MS / 1_000} s, ${kills.length} ${STOP_SIGNAL}s at ${kills.map((k) => Math.round(k / 1_000)).join(', ')} s; logs in ${dir}`);

  let runs = 0;
  let unexpectedExits = 0;
  let current: Run | undefined;
  const blackouts: Blackout[] = [];

  const spawnLookout = async (): Promise<Run> => {
    runs += 1;
    const httpPort = await closedPort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ALLOWED_CHAT_IDS: String(CHAT_ID),
      TARGETS_FILE: targetsFile,
      DATA_DIR: dataDir,
      // Only /api/status is read, once the storm is over, to see every target UP per the app.
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'info',
      SOURCE_LABEL: 'storm-bench',
    };
    const child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', entry], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(dir, `lookout-${runs}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const run: Run = {
      child,
      httpPort,
      stopping: false,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }))),
    };
    // A process that ends on its own is a finding: note it and start again, as systemd would.
    void run.exited.then(async ({ code, signal }) => {
      if (run.stopping || current !== run) return;
      unexpectedExits += 1;
      say(`Lookout run ${runs} exited on its own (code ${code}, signal ${signal}): restarting`);
      current = await spawnLookout();
    });
    return run;
  };

  const stop = async (run: Run, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> => {
    run.stopping = true;
    run.child.kill(signal);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 40_000);
    const exit = await run.exited;
    clearTimeout(timer);
    return exit;
  };

  const t0 = Date.now();
  current = await spawnLookout();
  for (const k of kills) {
    await sleep(Math.max(0, t0 + k - Date.now()));
    const from = Date.now();
    const exit = await stop(current, STOP_SIGNAL);
    if (STOP_SIGNAL === 'SIGTERM' && exit.code !== 0) say(`a SIGTERM stop exited with code ${exit.code} (signal ${exit.signal})`);
    blackouts.push({ from: from - FUZZ_MS, to: Date.now() });
    current = await spawnLookout();
  }
  await sleep(Math.max(0, t0 + DURATION_MS - Date.now()));

  // The storm is over: every target answers 200 until the chat has settled.
  flip.settle();
  const settledAt = flip.settledAt!;
  const lastNews = (): number => telegram.calls.reduce((last, c) => (c.method === 'getUpdates' ? last : Math.max(last, c.at)), settledAt);
  const allUpPerApp = async (): Promise<boolean> => {
    try {
      const res = await fetch(`http://127.0.0.1:${current!.httpPort}/api/status`);
      const body = (await res.json()) as { targets: Array<{ state: string }> };
      if (body.targets.length !== TARGETS || !body.targets.every((t) => t.state === 'UP')) return false;
      // And nothing waits in the outbox (a storm's last group may be paced up to a minute out): the public metric says.
      const metrics = await (await fetch(`http://127.0.0.1:${current!.httpPort}/metrics`)).text();
      return /^lookout_outbox_depth 0$/m.test(metrics);
    } catch {
      return false;
    }
  };
  let drained = false;
  let lastStatusCheck = 0;
  while (Date.now() - settledAt < DRAIN_MAX_MS) {
    await sleep(1_000);
    const quiet = Date.now() - lastNews() >= QUIET_MS;
    const checkedSince = flip.requests.every((log) => (log.at(-1)?.at ?? 0) > settledAt);
    if (!quiet || !checkedSince || Date.now() - lastStatusCheck < 5_000) continue;
    lastStatusCheck = Date.now();
    if (await allUpPerApp()) {
      drained = true;
      break;
    }
  }
  const drainMs = Date.now() - settledAt;
  const finalExit = await stop(current, 'SIGTERM');
  const wallMs = Date.now() - t0;

  // Everything the score needs, kept so that `--rescore DIR` can score a run again (a changed oracle, say).
  const raw: RawRun = {
    run: {
      seed: SEED,
      targets: TARGETS,
      flip_s: FLIP_MS / 1_000,
      duration_s: DURATION_MS / 1_000,
      stops: kills.length,
      stop_signal: STOP_SIGNAL,
      slow_telegram_ms: SLOW_MS,
      fuzz_ms: FUZZ_MS,
      drained,
      drain_s: Math.round(drainMs / 1_000),
      final_exit_code: finalExit.code,
      unexpected_exits: unexpectedExits,
      stray_requests: flip.strays,
      wall_s: Math.round(wallMs / 1_000),
    },
    t0,
    blackouts,
    requests: flip.requests.map((log) => log.map((r) => [r.at - t0, r.ok ? 1 : 0] as [number, 0 | 1])),
    calls: telegram.calls
      .filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText')
      .map((c) => ({
        method: c.method,
        at: c.at,
        chat: Number(c.payload.chat_id),
        id: Number((c.result as { message_id?: number } | undefined)?.message_id ?? c.payload.message_id ?? -1),
        text: String(c.payload.text ?? ''),
        buttons: buttonsOf(c).map((b) => b.text),
        ...(c.failed ? { failed: true as const } : {}),
        ...(c.abandoned ? { abandoned: true as const } : {}),
      })),
    finalMessages: telegram.messages(CHAT_ID).map((m) => ({
      id: m.message_id,
      text: m.text ?? '',
      buttons: ((m.reply_markup?.inline_keyboard ?? []) as Array<Array<{ text: string }>>).flat().map((b) => b.text),
    })),
  };
  await telegram.close();
  await flip.close();
  await writeFile(join(dir, 'raw.json'), JSON.stringify(raw));
  await analyze(raw, dir);
}

/** What a run leaves for scoring: its settings and facts, the stops, every request, every chat call. */
interface RawRun {
  run: Record<string, string | number | boolean | null>;
  t0: number;
  blackouts: Blackout[];
  /** Per target: [ms since t0, 1 = answered 200]. */
  requests: Array<Array<[number, 0 | 1]>>;
  calls: Array<{ method: string; at: number; chat: number; id: number; text: string; buttons: string[]; failed?: true; abandoned?: true }>;
  finalMessages: Array<{ id: number; text: string; buttons: string[] }>;
}

/** Scores a run, writes its files for checks by hand, and prints the figures (one JSON line with --json). */
async function analyze(raw: RawRun, dir: string): Promise<void> {
  const { t0, blackouts } = raw;
  const requests = raw.requests.map((log) => log.map(([at, ok]) => ({ at: at + t0, ok: ok === 1 })));
  const calls: RecordedCall[] = raw.calls.map((c) => ({
    method: c.method,
    at: c.at,
    bodyBytes: 0,
    payload: { chat_id: c.chat, text: c.text, ...(c.method === 'editMessageText' ? { message_id: c.id } : {}) },
    result: { message_id: c.id },
    ...(c.failed ? { failed: true as const } : {}),
    ...(c.abandoned ? { abandoned: true as const } : {}),
  }));
  const story = readChat(calls, CHAT_ID);
  const finalMessages = raw.finalMessages.map((m) => ({ ...m, ...stillOpen(m.text, m.buttons) }));
  const names = requests.map((_, i) => nameOf(i));
  const score = scoreStorm({ names, requests, story, rules: RULES, blackouts, finalMessages, t0 });

  // For post-mortems and checks by hand: every target's outages as the server saw them and what the chat told.
  const sec = (at: number | undefined): string => (at === undefined ? '-' : ((at - t0) / 1_000).toFixed(1));
  const timeline = names.map((name, i) => {
    const seen = replayOutages(requests[i]!, RULES).map((e) => `${sec(e.firstFailAt)}/${sec(e.downAt)}..${sec(e.upAt)}`);
    const told = (story.events.get(name) ?? []).map((e) => `${e.kind}${e.soft ? '~' : ''}@${sec(e.at)}#${e.messageId}`);
    return `${name}\n  server: ${seen.join(' ')}\n  chat:   ${told.join(' ')}`;
  });
  const fuzz = Number(raw.run.fuzz_ms);
  await writeFile(join(dir, 'timeline.txt'), `stops at ${blackouts.map((b) => sec(b.from + fuzz)).join(', ')} s\n${timeline.join('\n')}\n`);
  await writeFile(join(dir, 'chat.jsonl'), raw.calls.map((c) => JSON.stringify({ ...c, t: sec(c.at) })).join('\n'));
  await writeFile(join(dir, 'final-messages.jsonl'), finalMessages.map((m) => JSON.stringify(m)).join('\n'));

  const { examples, ...figures } = score;
  const { drained, drain_s, final_exit_code, unexpected_exits, stray_requests, wall_s, ...settings } = raw.run;
  const result = {
    bench: 'storm',
    ...settings,
    requests: requests.reduce((n, log) => n + log.length, 0),
    messages_sent: story.sent,
    edits: story.edits,
    other_messages: story.otherSent,
    abandoned_sends: story.abandonedSends,
    ...figures,
    drained,
    drain_s,
    final_exit_code,
    unexpected_exits,
    stray_requests,
    wall_s,
    run_dir: dir,
  };
  await writeFile(join(dir, 'result.json'), `${JSON.stringify({ ...result, examples }, null, 2)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(36)} ${String(v)}`);
  // Examples go to stderr, so that --json keeps stdout to one line.
  for (const [kind, list] of Object.entries(examples)) {
    if (list.length === 0) continue;
    say(`${kind} examples (seconds since the start):`);
    for (const line of list) say(`  ${line}`);
  }
}

if (args.rescore !== undefined) {
  const dir = args.rescore;
  await analyze(JSON.parse(await readFile(join(dir, 'raw.json'), 'utf8')) as RawRun, dir);
} else await main();
