import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { TraceSettings } from '../diagnostics/mtr.js';
import { parseDuration } from '../domain/duration.js';
import { LOCATION_RE } from '../domain/locations.js';
import { CHANNEL_SPECS } from '../alerts/channels/kinds.js';
import type { LogLevel } from '../lib/logger.js';
import { parseApiTokens, tokenSecrets, type ApiToken } from '../api/tokens.js';
import { isPostgresUrl, passwordsOf } from '../store/database-url.js';
import { CORE_SETTINGS, type SettingDeclaration, type SettingNameOf } from './settings.js';

/** Lookout's settings, parsed and validated once at start. */
export interface Config {
  /** Empty means headless: no Telegram, alerts as JSON log lines. */
  botToken?: string;
  telegramApiRoot: string;
  allowedChatIds: number[];
  adminUserIds: number[];
  dataDir: string;
  /** `DATABASE_URL`: the store on PostgreSQL (a secret: its password is kept out of every log line); SQLite in `dataDir` when unset. */
  databaseUrl?: string;
  /** `SOURCE_ADDRESS`: the local address every probe's connections leave from. */
  sourceAddress?: string;
  /** `LOCATION`: where this instance checks from (default: the host name, as a location name). */
  location: string;
  /** This instance's id among several on one database (absent: made up at start). */
  instanceId?: string;
  /** With DATABASE_URL: an instance not heard from this long is gone (ms). */
  memberTtlMs: number;
  /** 0 turns the HTTP server off. */
  httpPort: number;
  webhookUrl?: string;
  /** Where jobs reach the HTTP server (`PUBLIC_URL`, else the webhook's origin, else this host's HTTP_PORT): heartbeat URLs start with it. */
  publicUrl: string;
  webhookSecret?: string;
  logLevel: LogLevel;
  /** `SENTRY_DSN` (a secret: it holds a key; absent: nothing is sent) and `SENTRY_ENVIRONMENT`: where uncaught exceptions go. */
  sentry: { dsn?: string; environment: string };
  sourceLabel: string;
  targetsFile?: string;
  statusToken?: string;
  /** `API_TOKENS`: the REST API's tokens (none: the API answers 404). */
  apiTokens: ApiToken[];
  /** `API_RATE_LIMIT`: requests per minute per token. */
  apiRatePerMinute: number;
  /** The token values of API_TOKENS, kept out of the logs. */
  apiTokenSecrets: string[];
  checkConcurrency: number;
  /** The most targets one chat may have (`MAX_TARGETS_PER_CHAT`): /add and /import refuse more. */
  maxTargetsPerChat: number;
  allowMetadataTargets: boolean;
  /** Days before a certificate or token expires at which to warn (`EXPIRY_WARN_DAYS`). */
  expiryWarnDays: number[];
  /** How long history is kept: per-minute buckets (hours) and per-hour buckets, timeline and incidents (days). */
  history: { minuteHours: number; hourDays: number };
  /** Network traces: the mtr binary and how long and how hard it probes. */
  trace: TraceSettings & { mode: TraceModeSetting };
  /** The settings the channel kinds declare (`SMTP_URL`, `SLACK_BOT_TOKEN`, ...), those that are set. */
  channelEnv: Readonly<Record<string, string>>;
  /** Secret values among them, kept out of every log line. */
  channelSecrets: string[];
}

/** The environment as a plain object (tests pass their own, never `process.env`). */
export type Env = Record<string, string | undefined>;

/** Either the config or one message per bad variable. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Thrown by {@link loadConfig} when a setting is bad; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** How many targets a chat may have unless `MAX_TARGETS_PER_CHAT` says otherwise. */
export const DEFAULT_MAX_TARGETS_PER_CHAT: number = CORE_SETTINGS.MAX_TARGETS_PER_CHAT.default;

/** The values a choice setting accepts. */
type ChoiceOf<N extends SettingNameOf<'choice'>> = (typeof CORE_SETTINGS)[N]['values'][number];
type TraceModeSetting = ChoiceOf<'TRACE_MODE'>;

const TOKEN_RE = /^\d{3,20}:[A-Za-z0-9_-]{30,64}$/;
const CHAT_ID_RE = /^-?\d{1,20}$/;
// What @sentry/core's DSN parser accepts (an http(s) URL, a public key, a numeric project id last), so a DSN
// that passes here is never refused there, where the refusal is printed with the key.
const SENTRY_DSN_RE = /^https?:\/\/\w+(?::\w*)?@(?:\[[:.%\w]+\]|[\w.-]+)(?::\d+)?\/(?:[\w.~%-]+\/)*\d+$/;
// Sentry's rule for environment names: no white space or "/", at most 64 characters.
const SENTRY_ENVIRONMENT_RE = /^[^\s/]{1,64}$/;

/**
 * Pure: reads and validates every setting from `env`. Names, defaults, ranges and allowed values are
 * those declared in `settings.ts` (the list README and `.env.example` are checked against), and each
 * setting can only be read as the kind it is declared.
 */
export function parseEnv(env: Env): ConfigResult {
  const errors: string[] = [];
  /** A value that is set, trimmed; any name (Lookout's own settings and the channel kinds'). */
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const text = (name: SettingNameOf<'text'>): string | undefined => value(name);

  const idList = (name: SettingNameOf<'ids'>): number[] => {
    const raw = value(name);
    if (raw === undefined) return [];
    const ids: number[] = [];
    const bad: string[] = [];
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      if (!CHAT_ID_RE.test(part) || !Number.isSafeInteger(Number(part))) bad.push(JSON.stringify(part));
      else ids.push(Number(part));
    }
    if (bad.length > 0) errors.push(`${name} must be comma-separated numeric ids like -1001234567890,42, got ${bad.join(', ')}`);
    return ids;
  };

  const integer = (name: SettingNameOf<'integer'>): number => {
    const { default: fallback, min, max } = CORE_SETTINGS[name];
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push(`${name} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  };

  const boolean = (name: SettingNameOf<'boolean'>): boolean => {
    const fallback = CORE_SETTINGS[name].default;
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    errors.push(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
    return fallback;
  };

  const url = (name: SettingNameOf<'url'>): string | undefined => {
    const setting: SettingDeclaration & { kind: 'url' } = CORE_SETTINGS[name];
    const fallback = setting.default;
    const httpsOnly = setting.httpsOnly === true;
    const raw = value(name);
    if (raw === undefined) return fallback;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'https:' && (httpsOnly || u.protocol !== 'http:')) throw new Error('protocol');
      return raw.replace(/\/+$/, '');
    } catch {
      errors.push(`${name} must be ${httpsOnly ? 'an https://' : 'an http:// or https://'} URL, got ${JSON.stringify(raw)}`);
      return fallback;
    }
  };

  /** A duration setting in seconds (`1`, `0.5`, `2s`, `500ms`). */
  const seconds = (name: SettingNameOf<'seconds'>): number => {
    const { default: fallback, min, max } = CORE_SETTINGS[name];
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = /^\d+(\.\d+)?$/.test(raw) ? { ok: true as const, value: Number(raw) * 1_000 } : parseDuration(raw, name);
    if (!parsed.ok || parsed.value < min * 1_000 || parsed.value > max * 1_000) {
      errors.push(`${name} must be a duration between ${min}s and ${max}s (like 1s or 500ms), got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return parsed.value / 1_000;
  };

  /** One of the declared values (any case); `expected` says which, as the error puts it. */
  const choice = <N extends SettingNameOf<'choice'>>(name: N, expected: (values: readonly string[]) => string): ChoiceOf<N> => {
    const { default: fallback, values } = CORE_SETTINGS[name];
    const raw = value(name)?.toLowerCase() ?? fallback;
    if ((values as readonly string[]).includes(raw)) return raw as ChoiceOf<N>;
    errors.push(`${name} must be ${expected(values)}, got ${JSON.stringify(env[name])}`);
    return fallback as ChoiceOf<N>;
  };

  const dayList = (name: SettingNameOf<'days'>): number[] => {
    const { default: fallback, min, max } = CORE_SETTINGS[name];
    const raw = value(name);
    if (raw === undefined) return [...fallback];
    const days = raw.split(',').map((p) => p.trim()).filter(Boolean);
    if (days.length === 0 || days.some((d) => !/^\d{1,3}$/.test(d) || Number(d) < min || Number(d) > max)) {
      errors.push(`${name} must be comma-separated whole days between ${min} and ${max}, like 14,7,3,1, got ${JSON.stringify(raw)}`);
      return [...fallback];
    }
    return [...new Set(days.map(Number))].sort((a, b) => b - a);
  };

  const botToken = text('BOT_TOKEN');
  // The token itself never appears in an error: it is a secret even when malformed.
  if (botToken !== undefined && !TOKEN_RE.test(botToken)) {
    errors.push('BOT_TOKEN must look like 123456789:AA... (the token BotFather gave you)');
  }
  const errorsBeforeIds = errors.length;
  const allowedChatIds = idList('ALLOWED_CHAT_IDS');
  // A value of only commas (`,`) yields no ids and no id error: it must not pass as "given".
  if (botToken !== undefined && allowedChatIds.length === 0 && errors.length === errorsBeforeIds) {
    errors.push('ALLOWED_CHAT_IDS is required with BOT_TOKEN: the comma-separated ids of the chats Lookout serves');
  }
  const adminUserIds = idList('ADMIN_USER_IDS');
  const telegramApiRoot = url('TELEGRAM_API_ROOT') ?? CORE_SETTINGS.TELEGRAM_API_ROOT.default;
  const webhookUrl = url('WEBHOOK_URL');
  const webhookSecret = text('WEBHOOK_SECRET');
  const publicUrl = (url('PUBLIC_URL') ?? (webhookUrl !== undefined ? new URL(webhookUrl).origin : `http://${hostname()}:${value('HTTP_PORT') ?? CORE_SETTINGS.HTTP_PORT.default}`)).replace(/\/+$/, '');
  if (webhookSecret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(webhookSecret)) {
    errors.push('WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  if (webhookUrl !== undefined && webhookSecret === undefined) {
    errors.push('WEBHOOK_SECRET is required with WEBHOOK_URL, so that only Telegram can post updates');
  }
  if (webhookUrl !== undefined && value('HTTP_PORT') === '0') {
    errors.push('HTTP_PORT must not be 0 with WEBHOOK_URL: Telegram posts the updates to this server');
  }
  const logLevel: LogLevel = choice('LOG_LEVEL', (values) => `one of ${values.join(', ')}`);
  const sentryDsn = text('SENTRY_DSN');
  // The DSN itself never appears in an error: it holds the project's key.
  if (sentryDsn !== undefined && !SENTRY_DSN_RE.test(sentryDsn)) {
    errors.push('SENTRY_DSN must be a Sentry DSN: an http:// or https:// URL with a public key and a numeric project id, like https://<public key>@o0.ingest.sentry.io/<project id>');
  }
  const sentryEnvironment = text('SENTRY_ENVIRONMENT') ?? CORE_SETTINGS.SENTRY_ENVIRONMENT.default;
  if (!SENTRY_ENVIRONMENT_RE.test(sentryEnvironment)) {
    errors.push(`SENTRY_ENVIRONMENT must be 1-64 characters without spaces or "/" (like production or staging), got ${JSON.stringify(sentryEnvironment)}`);
  }

  // Each channel kind declares the settings it reads; they are checked here with everything else.
  const channelEnv: Record<string, string> = {};
  const channelSecrets: string[] = [];
  for (const setting of CHANNEL_SPECS.flatMap((spec) => spec.env)) {
    const v = value(setting.name);
    if (v === undefined) continue;
    const problem = setting.check(v);
    if (problem) errors.push(`${setting.name} ${problem}`);
    else channelEnv[setting.name] = v;
    if (setting.secret) channelSecrets.push(v);
  }
  const databaseUrl = text('DATABASE_URL');
  // Only the scheme is named: the URL holds a password.
  if (databaseUrl !== undefined && !isPostgresUrl(databaseUrl)) errors.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  else if (databaseUrl !== undefined && !URL.canParse(databaseUrl)) errors.push('DATABASE_URL must be a valid URL (postgres://user:password@host:5432/database)');
  const sourceAddress = text('SOURCE_ADDRESS');
  if (sourceAddress !== undefined && isIP(sourceAddress) === 0) errors.push('SOURCE_ADDRESS must be an IP address of this machine (like 10.0.0.5 or fd00::5)');
  // LOCATION means something only on a shared database: a single instance ignores a value it cannot use
  // (a stray LOCATION=Frankfurt must not keep it from starting) and is shown under its host name.
  const givenLocation = text('LOCATION');
  let location = givenLocation ?? defaultLocation(hostname());
  if (!LOCATION_RE.test(location)) {
    if (databaseUrl !== undefined) errors.push('LOCATION must be a short name: a-z, 0-9 and -, up to 32 (like fra or us-east-1)');
    else location = defaultLocation(hostname());
  }
  const instanceId = text('INSTANCE_ID');
  if (instanceId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) errors.push('INSTANCE_ID must be 1-64 letters, digits, dots, underscores or dashes');
  const memberTtlMs = seconds('MEMBER_TTL') * 1_000;
  const traceIntervalS = seconds('TRACE_INTERVAL');
  const targetsFile = text('TARGETS_FILE');
  const statusToken = text('STATUS_TOKEN');
  const apiTokensText = text('API_TOKENS');
  const apiTokens = parseApiTokens(apiTokensText);
  if (!apiTokens.ok) errors.push(...apiTokens.errors);
  else if (botToken !== undefined) {
    for (const t of apiTokens.value) {
      if (t.chatId !== undefined && !allowedChatIds.includes(t.chatId)) errors.push(`API_TOKENS: the token ${t.name} is limited to chat ${t.chatId}, which is not one of ALLOWED_CHAT_IDS`);
    }
  }
  const config: Config = {
    ...(botToken !== undefined ? { botToken } : {}),
    telegramApiRoot,
    allowedChatIds,
    adminUserIds,
    dataDir: text('DATA_DIR') ?? CORE_SETTINGS.DATA_DIR.default,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(instanceId !== undefined ? { instanceId } : {}),
    location,
    ...(sourceAddress !== undefined ? { sourceAddress } : {}),
    memberTtlMs,
    httpPort: integer('HTTP_PORT'),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    publicUrl,
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    logLevel,
    sentry: { ...(sentryDsn !== undefined ? { dsn: sentryDsn } : {}), environment: sentryEnvironment },
    sourceLabel: text('SOURCE_LABEL') ?? hostname(),
    ...(targetsFile !== undefined ? { targetsFile } : {}),
    ...(statusToken !== undefined ? { statusToken } : {}),
    apiTokens: apiTokens.ok ? apiTokens.value : [],
    apiRatePerMinute: integer('API_RATE_LIMIT'),
    apiTokenSecrets: tokenSecrets(apiTokensText),
    checkConcurrency: integer('CHECK_CONCURRENCY'),
    maxTargetsPerChat: integer('MAX_TARGETS_PER_CHAT'),
    expiryWarnDays: dayList('EXPIRY_WARN_DAYS'),
    allowMetadataTargets: boolean('ALLOW_METADATA_TARGETS'),
    history: { minuteHours: integer('HISTORY_MINUTE_HOURS'), hourDays: integer('HISTORY_DAYS') },
    trace: {
      binary: text('MTR_PATH') ?? CORE_SETTINGS.MTR_PATH.default,
      cycles: integer('TRACE_CYCLES'),
      intervalS: traceIntervalS,
      // mtr waits this long for late replies: twice the interval, between 0.2 s and 1 s.
      gracePeriodS: Math.min(1, Math.max(0.2, traceIntervalS * 2)),
      maxHops: integer('TRACE_MAX_HOPS'),
      timeoutMs: seconds('TRACE_TIMEOUT') * 1_000,
      mode: choice('TRACE_MODE', (values) => `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`),
      ...(sourceAddress !== undefined && isIP(sourceAddress) !== 0 ? { sourceAddress } : {}),
    },
    channelEnv,
    channelSecrets,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}

/** The secret values of a config, kept out of every log line (DATABASE_URL whole, and its password alone). */
export function secretsOf(config: Config): Array<string | undefined> {
  return [config.botToken, config.webhookSecret, config.statusToken, ...config.apiTokenSecrets, ...config.channelSecrets, config.sentry.dsn, config.databaseUrl, ...(config.databaseUrl ? passwordsOf(config.databaseUrl) : [])];
}

/** Reads the settings from `env`, throwing a {@link ConfigError} that lists every bad variable. */
export function loadConfig(env: Env): Config {
  const result = parseEnv(env);
  if (!result.ok) throw new ConfigError(result.errors);
  return result.config;
}

/** The host name as a location name: lower case, other characters as `-`, at most 32. */
export function defaultLocation(host: string): string {
  const name = host.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 32);
  return LOCATION_RE.test(name) ? name : 'default';
}
