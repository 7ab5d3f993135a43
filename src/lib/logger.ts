import { pino, type Logger } from 'pino';

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach a log line, at any depth (compared lower-case). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'token',
  'bottoken',
  'webhooksecret',
  'statustoken',
  'secret',
  'secretaccesskey',
  'sessiontoken',
  'credentials',
  'authorization',
  'password',
  'x-telegram-bot-api-secret-token',
]);

const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

/**
 * A copy of `value` without secrets: values of {@link SECRET_KEYS}, every header value (a header
 * list `[{name, value}]` or a header map), and any occurrence of a known secret string (the bot token
 * inside an error message, say). pino's path redaction needs every path spelled out; this walks all.
 */
export function scrubSecrets(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return secrets.reduce((text, s) => (text.includes(s) ? text.split(s).join(CENSOR) : text), value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, secrets, depth + 1));
  if (value instanceof Error) {
    // A scrubbed copy that is still an Error, so pino's error serializer gives it type, message and stack.
    const copy = new Error(scrubSecrets(value.message, secrets) as string);
    copy.name = value.name;
    copy.stack = scrubSecrets(value.stack, secrets) as string;
    if (value.cause !== undefined) copy.cause = scrubSecrets(value.cause, secrets, depth + 1);
    return Object.assign(copy, scrubSecrets({ ...value }, secrets, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (SECRET_KEYS.has(lower)) out[key] = CENSOR;
    else if (lower === 'headers') out[key] = maskHeaders(v);
    else out[key] = scrubSecrets(v, secrets, depth + 1);
  }
  return out;
}

/** Header names stay (they help debugging); values go. */
function maskHeaders(headers: unknown): unknown {
  if (Array.isArray(headers)) return headers.map((h) => (h !== null && typeof h === 'object' && 'name' in h ? { name: (h as { name: unknown }).name, value: CENSOR } : CENSOR));
  if (headers !== null && typeof headers === 'object') return Object.fromEntries(Object.keys(headers).map((k) => [k, CENSOR]));
  return CENSOR;
}

/** Secrets that become known while running (a destination's webhook URL, its routing key). */
export interface SecretRegistry {
  add(...secrets: ReadonlyArray<string | undefined>): void;
  values(): readonly string[];
}

/** A registry of secret strings; only real secrets (8+ characters) are kept: short ones would censor ordinary words. */
export function createSecretRegistry(initial: ReadonlyArray<string | undefined> = []): SecretRegistry {
  const known = new Set<string>();
  let list: string[] = [];
  const registry: SecretRegistry = {
    add(...secrets) {
      for (const s of secrets) if (typeof s === 'string' && s.length >= 8 && !known.has(s)) known.add(s);
      list = [...known];
    },
    values: () => list,
  };
  registry.add(...initial);
  return registry;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Strings that must never appear in a log line, wherever they turn up (the bot token, the webhook secret). */
  secrets?: ReadonlyArray<string | undefined> | SecretRegistry;
}

/** A JSON logger to `destination` (stdout by default) that keeps secrets out of every line. */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream, options: LoggerOptions = {}): Logger {
  const given = options.secrets;
  const registry: SecretRegistry = given === undefined || Array.isArray(given) ? createSecretRegistry(given) : (given as SecretRegistry);
  const config = {
    level,
    base: { app: 'lookout' },
    formatters: { log: (object: Record<string, unknown>) => scrubSecrets(object, registry.values()) as Record<string, unknown> },
    hooks: {
      // The message string is not part of the object the formatter sees.
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a, registry.values()) : a)));
      },
    },
  };
  return destination ? pino(config, destination) : pino(config);
}

export type { Logger };
