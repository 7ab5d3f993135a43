import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The first 16 bytes of every SQLite 3 database file. */
const MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');
/** The database header's length. */
const HEADER = 100;

/**
 * What is wrong with `file` as a SQLite database, judged from its header and its size without opening
 * it (undefined when it looks whole, is empty or does not exist yet: SQLite makes a new database of it).
 * It runs before SQLite sees the file because a KeyvSqlite whose first statement fails never closes its
 * handle: a garbage file would leave an open file behind on every attempt.
 */
export function headerProblem(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const size = statSync(file).size;
  if (size === 0) return undefined;
  const header = Buffer.alloc(HEADER);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, HEADER, 0);
  } finally {
    closeSync(fd);
  }
  if (read < MAGIC.length || !header.subarray(0, MAGIC.length).equals(MAGIC)) return 'the file is not a SQLite database';
  if (read < HEADER) return `the database is truncated (${size} bytes, less than its header)`;
  // A crash during a checkpoint can leave page 1 ahead of pages still only in the -wal; SQLite repairs that itself.
  if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) return undefined;
  const pageSize = header.readUInt16BE(16) === 1 ? 65_536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  // The page count is only meaningful when the version it was written for is the current one.
  const valid = header.readUInt32BE(92) === header.readUInt32BE(24);
  if (valid && pages > 0 && size < pageSize * pages) return `the database is truncated (${size} of ${pageSize * pages} bytes)`;
  return undefined;
}
