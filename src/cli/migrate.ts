// `lookout migrate --from DATA_DIR --to postgres://...`: copies a SQLite install to PostgreSQL.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../lib/clock.js';
import { StoreError } from '../store/faults.js';
import { databaseFile } from '../store/keyv.js';
import { createPool, ensureTable, isPostgresUrl, passwordsOf, postgresProblem, redactUrl, TABLE_REF } from '../store/postgres.js';
import { createWriteLayer } from '../store/resilient.js';
import type { Row } from '../store/rows.js';
import { openSqliteFile, type SqliteFile } from '../store/sqlite-file.js';

/** What `lookout migrate` is asked to do. */
export interface MigrateOptions {
  /** The DATA_DIR of the SQLite install. */
  from: string;
  /** The PostgreSQL URL (DATABASE_URL). */
  to: string;
  /** Replace the Lookout data the database holds already. */
  force: boolean;
}

/** What a migration copied. */
export interface MigrateResult {
  /** The SQLite file read. */
  source: string;
  /** The database written, without its password. */
  target: string;
  /** Rows copied per aggregate (namespace), by name. */
  counts: Map<string, number>;
  total: number;
  /** Rows of an earlier copy that `--force` replaced. */
  replaced: number;
}

/** A migration that cannot run; its message is one line (no password). */
export class MigrateError extends Error {
  override readonly name = 'MigrateError';
}

/** Rows that only say the store was opened or pinged: not data, not copied. */
const isHealthRow = (key: string): boolean => key.startsWith('health:');

/**
 * The aggregate a row belongs to: its Keyv namespace, the text before the first `:`; the kinds' storage
 * namespaces are `kind:<name>`, so they keep two parts (`kind:heartbeat`).
 */
export function aggregateOf(key: string): string {
  const parts = key.split(':');
  return parts[0] === 'kind' && parts.length > 2 ? `kind:${parts[1]}` : (parts[0] ?? key);
}

const PAGE = 1_000;

/** The SQLite install in `dataDir`, opened after the store's own start check of the file. */
async function openSource(dataDir: string): Promise<{ file: string; pages: () => AsyncGenerator<Row[]>; close: () => Promise<void> }> {
  const file = databaseFile(dataDir);
  if (!existsSync(file)) throw new MigrateError(`no Lookout database in ${dataDir} (${file} does not exist)`);
  const layer = createWriteLayer({ file, clock: systemClock });
  let sqlite: SqliteFile;
  try {
    sqlite = await openSqliteFile({ file, layer, clock: systemClock, retry: { base: 250, max: 1_000 }, checkMs: 60_000 });
  } catch (err) {
    if (err instanceof StoreError) throw new MigrateError(err.message, { cause: err });
    throw err;
  }
  const connection = sqlite.slot()();
  async function* pages(): AsyncGenerator<Row[]> {
    if (!('adapter' in connection)) throw new MigrateError(`cannot use ${file}: it is being recovered`);
    let after: string | undefined;
    for (;;) {
      const page = await connection.adapter.page('', after, PAGE);
      const data = page.filter((r) => !isHealthRow(r.key));
      if (data.length > 0) yield data;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }
  return { file, pages, close: () => sqlite.close() };
}

/**
 * Copies every row of the SQLite install in `from` into the PostgreSQL database `to`, page by page in
 * one transaction (a copy cut short leaves nothing behind). Refuses a database that holds Lookout data
 * already unless `force`, which replaces that data.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  if (!isPostgresUrl(options.to)) throw new MigrateError('--to must be a postgres:// or postgresql:// URL');
  const target = redactUrl(options.to);
  const passwords = passwordsOf(options.to);
  const source = await openSource(options.from);
  const pool = createPool(options.to);
  const fail = (err: unknown): never => {
    if (err instanceof MigrateError) throw err;
    const problem = postgresProblem(err, passwords) ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
    throw new MigrateError(`cannot use ${target}: ${problem}`, { cause: err });
  };
  try {
    await ensureTable(pool).catch(fail);
    const client = await pool.connect().catch(fail);
    try {
      await client.query('BEGIN');
      // Two copies at once: the second waits here, then sees the first one's rows.
      await client.query(`LOCK TABLE ${TABLE_REF} IN EXCLUSIVE MODE`);
      const held = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${TABLE_REF} WHERE key NOT LIKE 'health:%'`);
      const replaced = Number(held.rows[0]?.n ?? 0);
      if (replaced > 0 && !options.force) {
        throw new MigrateError(`${target} already holds Lookout data (${replaced} rows): nothing copied; run with --force to replace it`);
      }
      if (replaced > 0) await client.query(`DELETE FROM ${TABLE_REF} WHERE key NOT LIKE 'health:%'`);
      const counts = new Map<string, number>();
      let total = 0;
      for await (const batch of source.pages()) {
        for (const r of batch) counts.set(aggregateOf(r.key), (counts.get(aggregateOf(r.key)) ?? 0) + 1);
        total += batch.length;
        await client.query(
          `INSERT INTO ${TABLE_REF} (key, value) SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [batch.map((r) => r.key), batch.map((r) => r.value)],
        );
      }
      const copied = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${TABLE_REF} WHERE key NOT LIKE 'health:%'`);
      if (Number(copied.rows[0]?.n) !== total) throw new MigrateError(`cannot use ${target}: ${copied.rows[0]?.n} rows after the copy, expected ${total}`);
      await client.query('COMMIT');
      return { source: source.file, target, counts: new Map([...counts].sort(([a], [b]) => a.localeCompare(b))), total, replaced };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      return fail(err);
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => undefined);
    await source.close();
  }
}

const USAGE = 'usage: lookout migrate --from DATA_DIR --to postgres://user:password@host:5432/database [--force]';

/** Reads the command line (`--from DIR`, `--from=DIR`, `--to URL`, `--force`). */
export function parseArgs(argv: readonly string[]): MigrateOptions | { error: string } {
  const values: Record<string, string> = {};
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--force') {
      force = true;
      continue;
    }
    const m = /^--(from|to)(?:=(.*))?$/.exec(arg);
    if (!m) return { error: arg === '--help' || arg === '-h' ? USAGE : `unknown argument ${arg.startsWith('postgres') ? '(a URL)' : JSON.stringify(arg)}\n${USAGE}` };
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') return { error: `--${m[1]} needs a value\n${USAGE}` };
    values[m[1]!] = value;
  }
  if (!values.from || !values.to) return { error: USAGE };
  return { from: values.from, to: values.to, force };
}

/** What the command prints on success: a line per aggregate, then the total. */
export function report(result: MigrateResult): string {
  const width = Math.max(...[...result.counts.keys()].map((k) => k.length), 5);
  const lines = [`copied ${result.source} to ${result.target}${result.replaced > 0 ? ` (replaced ${result.replaced} rows)` : ''}:`];
  for (const [name, n] of result.counts) lines.push(`  ${name.padEnd(width)}  ${String(n).padStart(7)}`);
  lines.push(`  ${'total'.padEnd(width)}  ${String(result.total).padStart(7)}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the command; answers the exit code (0 copied or --help, 1 refused or failed, 2 bad arguments). */
export async function runCli(argv: readonly string[], io: { out: (text: string) => void; err: (text: string) => void } = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const options = parseArgs(argv);
  if ('error' in options) {
    io.err(`${options.error}\n`);
    return 2;
  }
  try {
    io.out(report(await migrate(options)));
    return 0;
  } catch (err) {
    if (err instanceof MigrateError) {
      io.err(`lookout migrate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
