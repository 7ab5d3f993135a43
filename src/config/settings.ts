import { CHANNEL_SPECS } from '../alerts/channels/kinds.js';
import { DEFAULT_TRACE_SETTINGS } from '../diagnostics/mtr.js';
import { LOG_LEVELS } from '../lib/logger.js';

// The one list of Lookout's own settings. parseEnv reads its names, defaults and ranges from here, and
// test/config/settings-docs.test.ts holds README's settings tables and `.env.example` to it; the
// settings the channel kinds declare (their spec's `env`) are added by {@link SETTINGS}.

interface Declared {
  /** One line: what the setting does. */
  meaning: string;
  /** A secret: kept out of every log line, never given a value in `.env.example`. */
  secret?: boolean;
}

/** How a setting is read, with what it falls back to when unset and the values it accepts. */
export type SettingDeclaration = Declared &
  (
    | { kind: 'text'; default?: string; shownDefault?: string }
    | { kind: 'url'; default?: string; shownDefault?: string; httpsOnly?: boolean }
    | { kind: 'ids'; shownDefault?: string }
    | { kind: 'integer'; default: number; min: number; max: number }
    | { kind: 'seconds'; default: number; min: number; max: number }
    | { kind: 'boolean'; default: boolean }
    | { kind: 'choice'; default: string; values: readonly string[] }
    | { kind: 'days'; default: readonly number[]; min: number; max: number }
  );

export const TRACE_MODES = ['icmp', 'tcp', 'auto'] as const;

/** Lookout's own settings, in the order README's tables list them; the key is the variable's name. */
export const CORE_SETTINGS = {
  BOT_TOKEN: { kind: 'text', secret: true, shownDefault: 'empty = headless', meaning: 'Telegram bot token' },
  TELEGRAM_API_ROOT: { kind: 'url', default: 'https://api.telegram.org', meaning: 'Bot API server (a local Bot API server, or a test fake)' },
  ALLOWED_CHAT_IDS: { kind: 'ids', shownDefault: 'required with `BOT_TOKEN`', meaning: 'comma-separated ids of the chats Lookout serves' },
  ADMIN_USER_IDS: { kind: 'ids', meaning: 'comma-separated user ids with full rights everywhere' },
  DATA_DIR: { kind: 'text', default: './data', meaning: 'where the SQLite database (lookout.sqlite) lives' },
  DATABASE_URL: {
    kind: 'text',
    secret: true,
    shownDefault: 'empty = SQLite in DATA_DIR',
    meaning: 'postgres:// or postgresql:// URL: the store on PostgreSQL instead of SQLite (its password is never logged)',
  },
  INSTANCE_ID: {
    kind: 'text',
    shownDefault: '<host name>-<pid>-<random>',
    meaning: 'with DATABASE_URL: this instance among those on the database (letters, digits, . _ -; at most 64)',
  },
  LOCATION: { kind: 'text', shownDefault: 'host name', meaning: 'with DATABASE_URL: where this instance checks from (a-z, 0-9, -; up to 32), shown with its peers' },
  MEMBER_TTL: { kind: 'seconds', default: 15, min: 1, max: 300, meaning: 'with DATABASE_URL: an instance not heard from for this long is gone and its targets move' },
  HTTP_PORT: { kind: 'integer', default: 8080, min: 0, max: 65_535, meaning: 'port of /healthz, /metrics, /api/status; 0 turns the server off' },
  WEBHOOK_URL: { kind: 'url', httpsOnly: true, meaning: 'webhook mode: the https URL Telegram posts updates to (long polling when empty)' },
  WEBHOOK_SECRET: { kind: 'text', secret: true, meaning: 'the secret Telegram sends with each update; required with WEBHOOK_URL' },
  PUBLIC_URL: {
    kind: 'url',
    shownDefault: 'the origin of WEBHOOK_URL, else http://<host name>:<HTTP_PORT>',
    meaning: "where jobs reach Lookout's HTTP server: heartbeat ping URLs start with it",
  },
  LOG_LEVEL: { kind: 'choice', default: 'info', values: LOG_LEVELS, meaning: 'how much is logged (JSON lines on stdout)' },
  SENTRY_DSN: {
    kind: 'text',
    secret: true,
    shownDefault: 'empty = nothing sent',
    meaning: 'uncaught exceptions and unhandled rejections go to this Sentry DSN (https://<public key>@<host>/<project id>), scrubbed like the logs',
  },
  SENTRY_ENVIRONMENT: { kind: 'text', default: 'production', meaning: 'with SENTRY_DSN: the environment the events are filed under' },
  SOURCE_LABEL: { kind: 'text', shownDefault: 'host name', meaning: "how alerts name the monitor's location" },
  SOURCE_ADDRESS: { kind: 'text', meaning: "a local IP address every probe's connections leave from (http, tcp, ec2, dns, ping, mtr)" },
  TARGETS_FILE: { kind: 'text', meaning: 'targets and windows declared as code (YAML or JSON)' },
  STATUS_TOKEN: { kind: 'text', secret: true, meaning: 'bearer token for /api/status' },
  API_TOKENS: {
    kind: 'text',
    secret: true,
    shownDefault: 'empty = no REST API',
    meaning: 'REST API (/api/v1) tokens: comma-separated name:token:scope[:chat], scope read or write, chat an id or * (default *)',
  },
  API_RATE_LIMIT: { kind: 'integer', default: 120, min: 1, max: 100_000, meaning: 'REST API requests per minute per token (bursts up to this many)' },
  CHECK_CONCURRENCY: { kind: 'integer', default: 100, min: 1, max: 10_000, meaning: 'at most this many checks run at once' },
  MAX_TARGETS_PER_CHAT: { kind: 'integer', default: 1_000, min: 1, max: 100_000, meaning: 'the most targets one chat may have' },
  ALLOW_METADATA_TARGETS: { kind: 'boolean', default: false, meaning: 'allow targets on cloud metadata and link-local addresses' },
  EXPIRY_WARN_DAYS: { kind: 'days', default: [14, 7, 3, 1], min: 1, max: 365, meaning: 'days before a certificate or token expires at which to warn' },
  // /history 24h reads the per-minute level; a 30d report and its trend need 60 days of hours.
  HISTORY_MINUTE_HOURS: { kind: 'integer', default: 48, min: 24, max: 168, meaning: 'hours of per-minute history' },
  HISTORY_DAYS: { kind: 'integer', default: 90, min: 60, max: 400, meaning: 'days of per-hour history, state timeline and resolved incidents' },
  TRACE_MODE: { kind: 'choice', default: 'auto', values: TRACE_MODES, meaning: 'ICMP, TCP SYNs, or ICMP and then TCP when the last hop never answers' },
  TRACE_CYCLES: { kind: 'integer', default: DEFAULT_TRACE_SETTINGS.cycles, min: 1, max: 100, meaning: 'probes per hop' },
  TRACE_INTERVAL: { kind: 'seconds', default: DEFAULT_TRACE_SETTINGS.intervalS, min: 0.1, max: 10, meaning: 'time between probes' },
  TRACE_MAX_HOPS: { kind: 'integer', default: DEFAULT_TRACE_SETTINGS.maxHops, min: 1, max: 64, meaning: 'the most hops a trace follows' },
  TRACE_TIMEOUT: { kind: 'seconds', default: DEFAULT_TRACE_SETTINGS.timeoutMs / 1_000, min: 1, max: 600, meaning: 'a trace is killed after this long' },
  MTR_PATH: { kind: 'text', default: DEFAULT_TRACE_SETTINGS.binary, meaning: 'the mtr binary' },
} as const satisfies Record<string, SettingDeclaration>;

/** The name of one of Lookout's own settings. */
export type CoreSettingName = keyof typeof CORE_SETTINGS;

/** The names of the settings of one kind (so parseEnv can only read a setting as what it is declared). */
export type SettingNameOf<K extends SettingDeclaration['kind']> = {
  [N in CoreSettingName]: (typeof CORE_SETTINGS)[N] extends { kind: K } ? N : never;
}[CoreSettingName];

/** A setting as people see it: README's tables and `.env.example`. */
export interface Setting {
  name: string;
  /** README's default column, exactly: a literal value in backticks, or words (`empty`, `host name`). */
  shownDefault: string;
  /** The value used when the setting is unset, when it is one fixed value (`.env.example` may show it). */
  literalDefault?: string;
  /** The accepted range, as README writes it (`60-400`, `0.1s-10s`). */
  range?: string;
  /** The accepted values, when they are a short list. */
  values?: readonly string[];
  secret: boolean;
  meaning: string;
  /** `core`, or the channel kind that declares it. */
  owner: string;
}

function literalOf(d: SettingDeclaration): string | undefined {
  switch (d.kind) {
    case 'integer':
    case 'boolean':
    case 'choice':
      return String(d.default);
    case 'seconds':
      return `${d.default}s`;
    case 'days':
      return d.default.join(',');
    case 'text':
    case 'url':
      return d.default;
    case 'ids':
      return undefined;
  }
}

function rangeOf(d: SettingDeclaration): string | undefined {
  switch (d.kind) {
    case 'integer':
    case 'days':
      return `${d.min}-${d.max}`;
    case 'seconds':
      return `${d.min}s-${d.max}s`;
    default:
      return undefined;
  }
}

function describe(name: string, d: SettingDeclaration): Setting {
  const literal = literalOf(d);
  const shown = 'shownDefault' in d && d.shownDefault !== undefined ? d.shownDefault : literal !== undefined ? `\`${literal}\`` : 'empty';
  const range = rangeOf(d);
  return {
    name,
    shownDefault: shown,
    ...(literal !== undefined ? { literalDefault: literal } : {}),
    ...(range !== undefined ? { range } : {}),
    ...(d.kind === 'choice' ? { values: d.values } : {}),
    secret: d.secret === true,
    meaning: d.meaning,
    owner: 'core',
  };
}

/** Every setting Lookout reads: its own, then those of the channel kinds, in the order of the kinds. */
export const SETTINGS: readonly Setting[] = [
  ...Object.entries(CORE_SETTINGS).map(([name, d]) => describe(name, d)),
  ...CHANNEL_SPECS.flatMap((spec) =>
    spec.env.map((s): Setting => ({
      name: s.name,
      shownDefault: s.shownDefault ?? (s.default !== undefined ? `\`${s.default}\`` : 'empty'),
      ...(s.default !== undefined ? { literalDefault: s.default } : {}),
      secret: s.secret === true,
      meaning: s.description,
      owner: spec.kind,
    })),
  ),
];
