import { pino, type Logger } from 'pino';

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths whose values never reach a log line: tokens, header values and credentials. pino's
 * redaction applies to every object logged, wherever it comes from.
 */
export const REDACT_PATHS = [
  'token',
  'botToken',
  'config.botToken',
  'config.webhookSecret',
  'config.statusToken',
  '*.headers[*].value',
  'headers[*].value',
  'target.headers[*].value',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
];

/** A JSON logger to `destination` (stdout by default). */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { app: 'lookout' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
