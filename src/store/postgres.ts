import { KeyvPostgres } from '@keyv/postgres';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { DatabaseUnavailable, StoreError } from './faults.js';
import type { Connection } from './resilient.js';
import { passwordsOf, redactUrl } from './database-url.js';
import { keyRange, type Row, type RowAdapter } from './rows.js';

export { isPostgresUrl, passwordsOf, redactUrl } from './database-url.js';

/**
 * The one table Lookout keeps in PostgreSQL. Every namespace lives in it as a Keyv namespace (keys
 * `<namespace>:<key>`), as in the SQLite file: one table to create and to grant, `lookout migrate`
 * copies rows one to one, a new namespace (a kind's storage, a channel's records) needs no DDL at
 * runtime, and listing a namespace is a range scan of the primary key. The key is `COLLATE "C"`: the
 * listings page by key ranges (`states:` ≤ key < `states;`), which only hold in byte order (a
 * language collation ignores the punctuation that separates a namespace from its keys).
 */
export const POSTGRES_TABLE = 'lookout_store';

/** The table as every statement names it: in `public`, where KeyvPostgres (schema `public` by default) looks for it too, whatever the search_path. */
export const TABLE_REF = `public.${POSTGRES_TABLE}`;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLE_REF} (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)`;

/** How long a connection attempt may take before the database counts as not answering (ms). */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long one statement may take before the database counts as not answering (ms). */
const QUERY_TIMEOUT_MS = 15_000;

/** Cuts every password out of a text that may quote it. */
const scrub = (text: string, passwords: readonly string[]): string => passwords.reduce((t, p) => t.split(p).join('***'), text);

/** Errno codes of a network that does not reach the server. */
const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/** SQLSTATE classes (or codes) that mean the server, not the statement, is at fault: worth waiting for. */
const UNAVAILABLE_STATES = ['08', '53', '57', '58', 'XX', '28', '3D', '40', '55P03', '25006'];

const firstLine = (text: string): string => text.split('\n')[0] ?? text;

/**
 * The cause of a failed PostgreSQL call in words, or undefined when it is the statement's fault (bad SQL,
 * bad data: a bug, thrown to the caller). Never includes a password.
 */
export function postgresProblem(err: unknown, passwords: readonly string[] = []): string | undefined {
  if (err instanceof DatabaseUnavailable) return err.reason;
  if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) return undefined;
  const code = (err as { code?: unknown }).code;
  const message = scrub(firstLine(err.message), passwords);
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (!UNAVAILABLE_STATES.some((s) => code.startsWith(s))) return undefined;
    if (code === '53100') return `the database's disk is full (${code})`;
    if (code.startsWith('57P')) return `the database is shutting down or starting (${code})`;
    if (code === '3D000') return `the database does not exist (${code}: ${message})`;
    if (code.startsWith('28')) return `the database refused the login (${code}: ${message})`;
    if (code === '25006') return `the database is read-only (${code})`;
    return `${message} (${code})`;
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    if (code === 'ECONNREFUSED') return `the database refuses connections (${code})`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the database host is not found (${code})`;
    if (code === 'ETIMEDOUT') return `the database does not answer (${code})`;
    return `the connection to the database was lost (${code})`;
  }
  if (typeof code === 'string') return undefined;
  // pg's own errors carry no code: a connection that ended, a connect or query timeout, a pool that is closed.
  if (/timeout/i.test(message)) return `the database does not answer (${message})`;
  return `the connection to the database failed (${message})`;
}

/** `err` as the store treats it: a {@link DatabaseUnavailable} when the server is at fault, else unchanged. */
const asFault = (err: unknown, passwords: readonly string[]): unknown => {
  if (err instanceof DatabaseUnavailable) return err;
  const problem = postgresProblem(err, passwords);
  return problem === undefined ? err : new DatabaseUnavailable(problem, { cause: err });
};

/** A pool on `url` whose idle connections may drop without ending the process. */
export function createPool(url: string, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'lookout',
  });
  // An idle connection the server ends (a restart) is an 'error' of the pool; without a listener it would end the process.
  pool.on('error', (err) => logger?.debug({ event: 'store_connection_lost', err: { message: err.message } }, 'an idle database connection ended'));
  return pool;
}

/** Creates Lookout's table when it is missing (two instances creating it at once: one wins, the other sees it). */
export async function ensureTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(CREATE_TABLE);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P07' && code !== '42710') throw err;
  }
}

/** A KeyvPostgres whose statements go through `query` (Lookout's pool) instead of the module-wide pool of @keyv/postgres. */
function keyvPostgresOver(query: (sql: string, values?: unknown) => Promise<unknown[]>): KeyvPostgres {
  // @keyv/postgres keeps one pool per module and `disconnect()` ends whichever pool was made last, so two
  // stores (a test, `lookout migrate`) would end each other's; its `connect()` is the seam to give it ours.
  class OnLookoutPool extends KeyvPostgres {
    override async connect(): Promise<(sql: string, values?: unknown) => Promise<unknown[]>> {
      return query;
    }
    override async disconnect(): Promise<void> {}
  }
  const adapter = new OnLookoutPool({ table: POSTGRES_TABLE });
  // Its constructor's CREATE TABLE (a no-op after the start check) reports failures as events.
  adapter.on('error', () => undefined);
  return adapter;
}

/** The PostgreSQL database under the store: a pool, and a connection per namespace with its statements in order. */
export interface PostgresDatabase {
  /** The URL without its password. */
  readonly where: string;
  /** A namespace's connection: its statements run one after another, in the order they were made. */
  slot(): () => Connection;
  close(): Promise<void>;
}

/**
 * Connects to the database at `url` and checks it before anything else starts: the table can be created
 * and a write reads back. Throws a {@link StoreError} (one line, no password) otherwise.
 *
 * Each namespace gets a KeyvPostgres over the shared pool whose statements are chained: with a pool,
 * two writes of one key made back to back could otherwise land in either order, where the SQLite
 * store (a connection per namespace) keeps them in order.
 */
export async function openPostgres(url: string, logger?: Logger): Promise<PostgresDatabase> {
  const where = redactUrl(url);
  const passwords = passwordsOf(url);
  const pool = createPool(url, logger);
  try {
    await ensureTable(pool);
    // A stamp of this process only: several instances start on one database at once, and each must read back its own.
    const stamp = `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const key = `health:opened:${stamp}`;
    await pool.query(`INSERT INTO ${TABLE_REF} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, JSON.stringify({ value: stamp })]);
    const read = await pool.query<{ value: string }>(`SELECT value FROM ${TABLE_REF} WHERE key = $1`, [key]);
    await pool.query(`DELETE FROM ${TABLE_REF} WHERE key = $1`, [key]);
    if (!read.rows[0]?.value.includes(stamp)) throw new StoreError(where, 'a write could not be read back');
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof StoreError) throw err;
    const problem = postgresProblem(err, passwords) ?? scrub(firstLine(err instanceof Error ? err.message : String(err)), passwords);
    throw new StoreError(where, problem, { cause: err });
  }

  const slot = (): (() => Connection) => {
    let tail: Promise<unknown> = Promise.resolve();
    const query = (sql: string, values?: unknown): Promise<unknown[]> => {
      const run = tail.then(() => pool.query(sql, values as unknown[] | undefined));
      tail = run.catch(() => undefined);
      return run.then(
        (result) => result.rows as unknown[],
        (err: unknown) => {
          throw asFault(err, passwords);
        },
      );
    };
    const keyv = keyvPostgresOver(query);
    const rows: RowAdapter = {
      get: (key) => keyv.get(key),
      getMany: (keys) => keyv.getMany(keys),
      has: async (key) => Boolean(await keyv.has(key)),
      set: (key, value) => keyv.set(key, value),
      // One INSERT … SELECT FROM UNNEST: one statement, one transaction.
      setMany: (entries) => keyv.setMany(entries.map((e) => ({ key: e.key, value: e.value }))),
      delete: (key) => keyv.delete(key),
      async page(prefix, after, limit) {
        const { where: range, params } = keyRange(prefix, after, 1, (n) => `$${n}`);
        return (await query(`SELECT key, value FROM ${TABLE_REF} ${range} ORDER BY key LIMIT $${params.length + 1}`, [...params, limit])) as Row[];
      },
      async clear(prefix) {
        const { where: range, params } = keyRange(prefix, undefined, 1, (n) => `$${n}`);
        await query(`DELETE FROM ${TABLE_REF} ${range}`, params);
      },
    };
    const connection: Connection = { adapter: rows };
    return () => connection;
  };

  return {
    where,
    slot,
    close: () => pool.end(),
  };
}
