import { randomBytes } from 'node:crypto';
import { formatDuration } from '../../domain/duration.js';
import { nameError, parseBoundedDuration, type TargetCommon } from '../../domain/target.js';
import { defineKind, errorOf, type Draft, type KindRuntime, type KindStorage, type OptionSpec } from '../kind.js';
import { describeBeat, HEARTBEAT_LIMITS, type Beat } from './beat.js';

/**
 * A push check: a cron job or a CI run calls its secret URL (`/ping/<token>`); the target is DOWN when no
 * ping came within `every` + `grace`, or at once when the job reports a failure (`/ping/<token>/fail`).
 * The token is a secret: shown whole only in the /add reply, masked everywhere else, never logged.
 */
export interface HeartbeatTarget extends TargetCommon {
  kind: 'heartbeat';
  /** How often the job pings. */
  periodMs: number;
  /** How late a ping may be before the target is DOWN. */
  graceMs: number;
  token: string;
}

type HeartbeatDraft = Draft<HeartbeatTarget>;

const TOKEN_RE = /^[A-Za-z0-9_-]{16,64}$/;
/** How often a heartbeat's deadline is looked at: a missed ping is DOWN at most this long after its deadline. */
export const HEARTBEAT_CADENCE_MS = 10_000;

const newToken = (): string => randomBytes(18).toString('base64url');

/** `…/ping/ab••••`: enough to tell two URLs apart, not to use one. */
const maskedUrl = (token: string): string => `…/ping/${token.slice(0, 2)}••••`;

const every: OptionSpec<HeartbeatDraft> = {
  apply: (d, v, { key }) =>
    errorOf(parseBoundedDuration(key, v, HEARTBEAT_LIMITS.periodMinMs, HEARTBEAT_LIMITS.periodMaxMs), (ms) => (d.periodMs = ms)),
};

/** The heartbeat kind. */
export const heartbeatKind = defineKind<HeartbeatTarget>({
  kind: 'heartbeat',
  usage: '/add heartbeat NAME every=1h [grace=5m]',
  summary: 'a push check: your job calls its secret URL; DOWN when no ping came within every + grace',
  dialogue: '<code>heartbeat nightly-backup every=1d</code>',
  optionsExample: '<code>grace=30m note="the nightly backup"</code>',
  pushed: true,
  // The check's own timing is fixed: it reads the last ping, which takes no time; `timeout=` and `retry=` mean nothing here.
  defaults: { confirm: 1, recover: 1, everyMs: HEARTBEAT_CADENCE_MS, timeoutMs: 5_000, retryMs: HEARTBEAT_CADENCE_MS },
  omits: ['timeout', 'retry'],
  address: {
    key: 'name',
    missing: 'a heartbeat needs a name, like /add heartbeat nightly-backup every=1d',
    apply: (d, v) => nameError(v) ?? void (d.name = v),
  },
  options: {
    // `every` is how often the job pings; the deadline is looked at every 10 s whatever it is.
    every,
    grace: {
      apply: (d, v, { key }) => errorOf(parseBoundedDuration(key, v, HEARTBEAT_LIMITS.graceMinMs, HEARTBEAT_LIMITS.graceMaxMs), (ms) => (d.graceMs = ms)),
    },
    token: {
      secret: true,
      apply: (d, v, ctx) => {
        // `token=new` makes a new URL (the old one stops working); a given token lets a job keep its URL.
        if (v === 'new') {
          d.token = (ctx.secret ?? newToken)();
          return undefined;
        }
        if (!TOKEN_RE.test(v)) return `${ctx.key} must be 16-64 characters of A-Z, a-z, 0-9, "_" or "-", or new for a new one`;
        d.token = v;
        return undefined;
      },
    },
  },
  required: (d, given, ctx) => [
    ...(d.periodMs === undefined && !given.has('every') && !given.has('interval') ? ['a heartbeat needs every=, how often the job pings, like every=1h'] : []),
    // A token made up for a file would be seen by nobody: the job could never be given its URL.
    ...(ctx.declared && !given.has('token')
      ? ['a heartbeat in TARGETS_FILE needs token: (16-64 characters of A-Z, a-z, 0-9, "_" or "-", like the output of openssl rand -hex 16), the secret of its ping URL']
      : []),
  ],
  finish: (d, ctx) => {
    return {
      periodMs: d.periodMs as number,
      graceMs: d.graceMs ?? HEARTBEAT_LIMITS.graceDefaultMs,
      token: d.token ?? (ctx.secret ?? newToken)(),
    };
  },
  keep: (built, stored, given) => (given.has('token') ? built : { ...built, token: stored.token }),
  nameHost: (d) => d.name as string,
  show: (t) => `heartbeat ${maskedUrl(t.token)}`,
  describe: (t) => `push: a ping every ${formatDuration(t.periodMs)}, grace ${formatDuration(t.graceMs)}`,
  statusLines: (t) => [`Ping URL: ${maskedUrl(t.token)} (/edit ${t.name} token=new makes a new one)`],
  addedLines: (t, { publicUrl }) => [
    ...(publicUrl === undefined ? ["⚠️ Lookout's HTTP server is off (HTTP_PORT=0): nothing can reach this URL until it is on."] : []),
    `Ping URL (keep it secret): ${publicUrl ?? 'PUBLIC_URL'}/ping/${t.token}`,
    `Call it when the job succeeds, …/fail when it fails, …/start when it begins (to measure it). A crontab line:`,
    `0 * * * * run-the-job && curl -fsS -m 10 --retry 3 ${publicUrl ?? 'PUBLIC_URL'}/ping/${t.token}`,
  ],
  entry(t, secrets) {
    const entry: Record<string, string> = { name: t.name, every: formatDuration(t.periodMs) };
    if (t.graceMs !== HEARTBEAT_LIMITS.graceDefaultMs) entry.grace = formatDuration(t.graceMs);
    entry.token = secrets ? t.token : '••••';
    return entry;
  },
  trace: () => undefined,
  secrets: (t) => [t.token],
  stored: (t, key) => (key === 'token' ? t.token : undefined),
  create: (runtime) => createHeartbeats(runtime),
});

/** The heartbeats of the process: the last ping of each (by token, on disk), the probe and the `/ping/…` routes. */
function createHeartbeats(runtime: KindRuntime) {
  const storage: KindStorage = runtime.storage('heartbeat');
  const beats = new Map<string, Beat>();
  const beatOf = async (token: string): Promise<Beat> => {
    let beat = beats.get(token);
    if (beat === undefined) {
      beat = ((await storage.get(token)) as Beat | undefined) ?? {};
      beats.set(token, beat);
    }
    return beat;
  };
  const targetOf = (token: string): HeartbeatTarget | undefined =>
    runtime.targets().find((t): t is HeartbeatTarget => t.kind === 'heartbeat' && (t as HeartbeatTarget).token === token);

  return {
    probe: {
      kind: 'heartbeat' as const,
      async run(t: HeartbeatTarget, ctx: { now: () => number }) {
        // Read from the store at each check: of several instances, the ping may have reached another one.
        const stored = (await storage.get(t.token).catch(() => undefined)) as Beat | undefined;
        if (stored !== undefined) beats.set(t.token, stored);
        return describeBeat(t, stored ?? (await beatOf(t.token)), ctx.now());
      },
    },
    async route(req: { method: string; path: string; body(): Promise<string> }) {
      const m = /^\/ping\/([^/]{1,128})(?:\/(start|fail))?\/?$/.exec(req.path);
      if (!m) return undefined;
      const token = m[1]!;
      const target = TOKEN_RE.test(token) ? targetOf(token) : undefined;
      // A wrong token counts nothing and says nothing about which tokens exist.
      if (!target) return { status: 404, body: { error: 'not found' } };
      const now = runtime.clock.now();
      const beat = { ...(await beatOf(token)) };
      if (m[2] === 'start') beat.startedAt = now;
      else if (m[2] === 'fail') {
        const text = (await req.body()).trim();
        beat.failedAt = now;
        beat.failure = text === '' ? undefined : text.slice(0, 200);
        delete beat.startedAt;
      } else {
        beat.lastPingAt = now;
        if (beat.startedAt !== undefined && now - beat.startedAt <= target.periodMs + target.graceMs) beat.durationMs = now - beat.startedAt;
        else delete beat.durationMs;
        delete beat.startedAt;
        delete beat.failedAt;
        delete beat.failure;
      }
      // On disk before the job is told it was heard: a restart knows the last ping.
      await storage.set(token, beat);
      beats.set(token, beat);
      if (m[2] !== 'start' && !target.paused) runtime.checkNow(target.id);
      return { status: 200, body: { ok: true } };
    },
  };
}
