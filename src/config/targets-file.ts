import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument as parseYamlDocument, YAMLParseError, type YAMLError } from 'yaml';
import { parseDocument, type DocumentContents, type DocumentContext } from '../targets/document.js';
import { CHANNEL_SPECS } from '../alerts/channels/kinds.js';
import { documentDestination } from '../alerts/destinations.js';
import type { Config } from './config.js';
import { invalid, type Parsed } from '../domain/result.js';

/**
 * Parses a targets document from text: JSON for `.json` files (or text that starts with `{`), YAML
 * otherwise (YAML is a superset of JSON, but JSON's own errors are clearer for JSON files). Errors
 * start with `label` (the file's name by default).
 */
export function parseDocumentText(text: string, name: string, ctx: DocumentContext, label = name): Parsed<DocumentContents> {
  let data: unknown;
  const json = extname(name).toLowerCase() === '.json' || text.trimStart().startsWith('{');
  // Deep nesting would overflow the parsers' stacks: it is refused before any of them runs.
  if (bracketDepth(text) > MAX_DEPTH) return invalid(`${label} is nested too deeply (more than ${MAX_DEPTH} levels)`);
  try {
    if (json) JSON.parse(text); // its syntax errors read best for JSON files
    // YAML reads JSON too, and unlike JSON.parse it refuses a key given twice instead of keeping the last.
    const doc = parseYamlDocument(text, { prettyErrors: true, uniqueKeys: true });
    const error = doc.errors[0];
    if (error) return invalid(`${label} is not valid ${json ? 'JSON' : 'YAML'}: ${duplicateWords(error, text) ?? error.message.split('\n')[0]!}`);
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    if (err instanceof RangeError) return invalid(`${label} is nested too deeply (more than ${MAX_DEPTH} levels)`);
    const message = err instanceof YAMLParseError ? err.message.split('\n')[0]! : err instanceof Error ? err.message : String(err);
    return invalid(`${label} is not valid ${json ? 'JSON' : 'YAML'}: ${message}`);
  }
  if (valueDepth(data) > MAX_DEPTH) return invalid(`${label} is nested too deeply (more than ${MAX_DEPTH} levels)`);
  const parsed = parseDocument(data, ctx);
  return parsed.ok ? parsed : invalid(...parsed.errors.map((e) => `${label}: ${e}`));
}

/** The deepest a targets document may nest (it needs 4). */
const MAX_DEPTH = 64;

/** The deepest nesting of flow brackets (`[`, `{`) and of block indentation, outside strings; cheap and stack-free. */
function bracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') max = Math.max(max, ++depth);
    else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
  }
  // Block YAML nests by indentation: two spaces a level at the least.
  let indent = 0;
  for (const line of text.split('\n')) {
    const lead = /^( *)(- )*/.exec(line)!;
    indent = Math.max(indent, lead[1]!.length / 2 + (lead[0].length - lead[1]!.length) / 2);
  }
  return Math.max(max, indent);
}

/** The nesting depth of a parsed value, without recursion. */
function valueDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    if (d > MAX_DEPTH) return d;
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}

/** A duplicate key in words: which key, and on which line. */
function duplicateWords(error: YAMLError, text: string): string | undefined {
  if (error.code !== 'DUPLICATE_KEY') return undefined;
  const line = error.linePos?.[0]?.line;
  const key = /^["']?([^"':\s,{}[\]]{1,40})/.exec(text.slice(error.pos[0], error.pos[0] + 60))?.[1];
  return `a key is given twice${key ? ` ("${key}")` : ''}${line !== undefined ? ` on line ${line}` : ''}: each key may appear once`;
}

/** Reads and validates TARGETS_FILE; a missing or unreadable file is an error in words, not an exception. */
export async function readTargetsFile(path: string, ctx: DocumentContext): Promise<Parsed<DocumentContents>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return invalid(code === 'ENOENT' ? `TARGETS_FILE ${path} does not exist` : `TARGETS_FILE ${path} cannot be read (${code ?? String(err)})`);
  }
  return parseDocumentText(text, path, ctx);
}

/** Thrown at start when TARGETS_FILE is bad; its message lists every problem, one per line. */
export class TargetsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid TARGETS_FILE:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TargetsFileError';
  }
}

/** How TARGETS_FILE is read for this deployment: headless targets belong to chat 0. */
function declaredContext(config: Config, now: number): DocumentContext {
  const bot = config.botToken !== undefined;
  const only = config.allowedChatIds.length === 1 ? config.allowedChatIds[0] : undefined;
  return {
    now,
    allowMetadata: config.allowMetadataTargets,
    ...(bot ? { allowedChatIds: config.allowedChatIds, ...(only !== undefined ? { defaultChatId: only } : {}) } : { defaultChatId: 0 }),
    managed: 'file',
    windowId: (i) => `f${i + 1}`,
    maxTargetsPerChat: config.maxTargetsPerChat,
    // Destinations declared in the file are validated by their kinds like /notify add; the file must hold real secrets.
    parseChannel: documentDestination(CHANNEL_SPECS, config.channelEnv, now, { managed: 'file' }),
  };
}

/** Reads TARGETS_FILE, or nothing when it is not set. */
export async function readDeclared(config: Config, now: number): Promise<{ ok: true; value?: DocumentContents } | { ok: false; errors: string[] }> {
  if (config.targetsFile === undefined) return { ok: true };
  return readTargetsFile(config.targetsFile, declaredContext(config, now));
}
