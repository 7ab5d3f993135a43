import type { KeyvSqlite } from '@keyv/sqlite';
import type { StoredData } from 'keyv';

/** One stored row: the full key (`<namespace>:<key>`) and the value as Keyv serialised it. */
export interface Row {
  key: string;
  value: string;
}

/**
 * What the pending-write layer and the namespace adapters need of a backend (a KeyvSqlite or a
 * KeyvPostgres connection): keyed reads and writes, and the two statements Keyv's adapters do not offer
 * in the shape needed here (a page of rows by key, and removing the rows under a prefix).
 */
export interface RowAdapter {
  get<Value>(key: string): Promise<StoredData<Value> | undefined>;
  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>>;
  has(key: string): Promise<boolean>;
  set(key: string, value: unknown): Promise<unknown>;
  /** Sets every entry in one statement (one transaction: all or none); keys are distinct. */
  setMany(entries: ReadonlyArray<{ key: string; value: string }>): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Up to `limit` rows whose keys start with `prefix` ('' = every row) and come after `after`, in byte order of the key. */
  page(prefix: string, after: string | undefined, limit: number): Promise<Row[]>;
  /** Removes the rows whose keys start with `prefix` ('' = every row). */
  clear(prefix: string): Promise<void>;
}

/** The smallest string above every key that starts with `prefix` (`states:` → `states;`). */
export const upperBound = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** A range over the key for `prefix`, with the placeholders `mark(n)` gives (`?` for SQLite, `$n` for PostgreSQL). */
export function keyRange(prefix: string, after: string | undefined, first: number, mark: (n: number) => string): { where: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  const add = (sql: string, value: string): void => {
    params.push(value);
    parts.push(sql.replace('#', mark(first + params.length - 1)));
  };
  if (after !== undefined) add('key > #', after);
  if (prefix) {
    if (after === undefined || after < prefix) add('key >= #', prefix);
    add('key < #', upperBound(prefix));
  }
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** A KeyvSqlite connection as a {@link RowAdapter}. */
export function sqliteRows(adapter: KeyvSqlite): RowAdapter {
  const table = adapter.opts.table;
  return {
    get: (key) => adapter.get(key),
    getMany: (keys) => adapter.getMany(keys),
    has: (key) => adapter.has(key),
    set: (key, value) => adapter.set(key, value),
    // KeyvSqlite has no setMany: one INSERT over json_each is one statement, so one transaction and one sync.
    async setMany(entries) {
      await adapter.query(
        `INSERT INTO ${table} (key, value) SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') FROM json_each(?) AS j WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        JSON.stringify(entries.map((e) => [e.key, e.value])),
      );
    },
    delete: (key) => adapter.delete(key),
    async page(prefix, after, limit) {
      const { where, params } = keyRange(prefix, after, 1, () => '?');
      return (await adapter.query(`SELECT key, value FROM ${table} ${where} ORDER BY key LIMIT ?`, ...params, limit)) as Row[];
    },
    async clear(prefix) {
      const { where, params } = keyRange(prefix, undefined, 1, () => '?');
      await adapter.query(`DELETE FROM ${table} ${where}`, ...params);
    },
  };
}
