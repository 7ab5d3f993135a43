import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Thrown by `openStore` when the database cannot be used at start: the directory cannot be created or
 * written, the disk is full, or the file is not a (whole) SQLite database; or the PostgreSQL server
 * does not answer, refuses the login or the statements. Its message is one line naming the file (or the
 * database URL without its password) and the cause in words; `cause` holds the underlying error.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    /** The database file, or the database URL without its password. */
    readonly file: string,
    /** What is wrong, in words (`the disk is full`). */
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`cannot use ${file}: ${reason}`, options);
  }
}

/**
 * A database server (PostgreSQL) that does not take a statement now: refused or lost connections,
 * timeouts, a server shutting down or out of disk. Raised in place of the driver's error by
 * `postgres.ts`, so that the pending-write layer keeps the write and retries it; `reason` is the cause
 * in words, without the password.
 */
export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable';
  readonly code = 'EDBUNAVAILABLE';

  constructor(
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(reason, options);
  }
}

/** SQLite result codes and errno codes that mean the disk or the file is at fault, not the code. */
const STORAGE_CODES: ReadonlySet<string> = new Set([
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_PROTOCOL',
  'SQLITE_NOLFS',
  'SQLITE_PERM',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
]);

const codeOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * Whether a failed store call is the storage's fault (full, read-only, missing, broken or locked file, or
 * a {@link StoreError}: the file is being restored), so that the write is worth keeping and retrying.
 * Anything else (bad SQL, a value that cannot be serialised) is a bug and stays an exception.
 */
export function isStorageFault(err: unknown): boolean {
  if (err instanceof StoreError || err instanceof DatabaseUnavailable) return true;
  const code = codeOf(err);
  return code !== undefined && STORAGE_CODES.has(code);
}

const errnoOf = (probe: () => void): string | undefined => {
  try {
    probe();
    return undefined;
  } catch (err) {
    return codeOf(err) ?? 'EUNKNOWN';
  }
};

/** The free space of the file system holding `dir`, or undefined when it cannot be read. */
const freeBytes = (dir: string): number | undefined => {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
};

/** Less free space than this and SQLite cannot open a WAL database at all (its -shm alone takes 32 KiB). */
const MIN_FREE_BYTES = 64 * 1024;

/**
 * `the disk is full` when the file system of `dir` has almost no space left, checked before SQLite opens
 * the file: an open that fails there leaves a handle KeyvSqlite never closes.
 */
export function spaceProblem(dir: string): string | undefined {
  const free = freeBytes(dir);
  return free !== undefined && free < MIN_FREE_BYTES ? 'the disk is full' : undefined;
}

/** The nearest directory on the way to `dir` that exists (the one a mkdir would write into). */
const nearestExisting = (dir: string): string => {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
};

/**
 * What a store failure means, in words, for a log line, /health and the start error: the error's code
 * first where it is unambiguous (full, not a database, corrupt), else what the directory and the file
 * say about themselves (read-only, not writable, no space), else the code.
 */
export function describeFault(err: unknown, file: string): string {
  if (err instanceof DatabaseUnavailable) return err.reason;
  const code = codeOf(err);
  switch (code) {
    case 'SQLITE_FULL':
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'SQLITE_NOTADB':
      return 'the file is not a SQLite database (SQLITE_NOTADB)';
    case 'SQLITE_CORRUPT':
      return 'the database is corrupt (SQLITE_CORRUPT)';
    default:
      break;
  }
  const dir = nearestExisting(dirname(file));
  const dirProblem = errnoOf(() => accessSync(dir, constants.W_OK));
  if (dirProblem === 'EROFS') return 'the directory is read-only';
  if (dirProblem === 'EACCES' || dirProblem === 'EPERM') return 'the directory is not writable (permission denied)';
  if (freeBytes(dir) === 0) return 'the disk is full';
  if (existsSync(file) && errnoOf(() => accessSync(file, constants.W_OK)) !== undefined) return 'the database file is read-only';
  switch (code) {
    case 'SQLITE_READONLY':
    case 'EROFS':
      return 'the database is read-only (SQLITE_READONLY)';
    case 'SQLITE_CANTOPEN':
      return 'the file cannot be opened (SQLITE_CANTOPEN)';
    case 'SQLITE_IOERR':
    case 'EIO':
      return `a disk I/O error (${code})`;
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return `the database is locked by another process (${code})`;
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a directory';
    case 'ENOENT':
      return 'the file or its directory is missing';
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return message.split('\n')[0] ?? message;
    }
  }
}
