import { createHash, timingSafeEqual } from 'node:crypto';
import { invalid, valid, type Parsed } from '../domain/result.js';

// API_TOKENS: who may use the REST API, for what and where. Tokens are compared in constant time (by
// their SHA-256, so that the comparison does not even tell the length) and never logged: a request is
// known by the token's name.

/** What a token may do: read, or read and change. */
export type TokenScope = 'read' | 'write';

/** One API token: its name (said in announcements and logs), what it may do, and the chat it is limited to. */
export interface ApiToken {
  name: string;
  scope: TokenScope;
  /** The chat it may see and change; undefined = every allowed chat (`*`). */
  chatId?: number;
  digest: Buffer;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/i;

const digestOf = (token: string): Buffer => createHash('sha256').update(token).digest();

/**
 * Parses `ci-deploy:TOKEN:write:-100123,grafana:TOKEN2:read:*`: comma-separated `name:token:scope[:chat]`
 * (chat an id or `*`, default `*`). Tokens are at least 16 characters; names are unique. Errors never
 * repeat a token.
 */
export function parseApiTokens(text: string | undefined): Parsed<ApiToken[]> {
  if (text === undefined || text.trim() === '') return valid([]);
  const errors: string[] = [];
  const tokens: ApiToken[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') return;
    const [name = '', token = '', scope = '', chat = '*', ...rest] = entry.split(':');
    const at = `API_TOKENS entry ${i + 1}`;
    if (rest.length > 0) return void errors.push(`${at}: expected name:token:scope[:chat], with no more ":"`);
    if (!NAME_RE.test(name)) return void errors.push(`${at}: the name must be 1-32 letters, digits, ".", "_" or "-"`);
    if (!/^[\x21-\x7e]{16,256}$/.test(token) || token.includes(',')) return void errors.push(`${at} (${name}): the token must be 16-256 printable characters without spaces, ":" or ","`);
    if (scope !== 'read' && scope !== 'write') return void errors.push(`${at} (${name}): the scope must be read or write`);
    if (chat !== '*' && !/^-?\d{1,20}$/.test(chat)) return void errors.push(`${at} (${name}): the chat must be a chat id or *`);
    if (names.has(name.toLowerCase())) return void errors.push(`${at}: the name ${name} is given twice`);
    const digest = digestOf(token);
    if (digests.has(digest.toString('hex'))) return void errors.push(`${at} (${name}): the same token is given twice`);
    names.add(name.toLowerCase());
    digests.add(digest.toString('hex'));
    tokens.push({ name, scope, ...(chat !== '*' ? { chatId: Number(chat) } : {}), digest });
  });
  return errors.length > 0 ? invalid(...errors) : valid(tokens);
}

/** The secret values of API_TOKENS (kept out of the logs). */
export function tokenSecrets(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((e) => e.trim().split(':')[1])
    .filter((t): t is string => t !== undefined && t.length >= 8);
}

/** The token a bearer `authorization` header carries, compared with every token in constant time; undefined when none matches. */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): ApiToken | undefined {
  const m = header === undefined ? null : /^bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!m) return undefined;
  const given = digestOf(m[1]!);
  let found: ApiToken | undefined;
  // Every token is compared, found or not: the time does not tell which one matched.
  for (const t of tokens) if (timingSafeEqual(given, t.digest) && found === undefined) found = t;
  return found;
}

/** Whether a token may see (and, with write scope, change) a chat's objects. */
export const tokenSees = (token: ApiToken, chatId: number): boolean => token.chatId === undefined || token.chatId === chatId;
