import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseDocument, type DocumentContents, type DocumentContext } from '../domain/document.js';
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
  try {
    data = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message.split('\n')[0]! : err instanceof Error ? err.message : String(err);
    return invalid(`${label} is not valid ${json ? 'JSON' : 'YAML'}: ${message}`);
  }
  const parsed = parseDocument(data, ctx);
  return parsed.ok ? parsed : invalid(...parsed.errors.map((e) => `${label}: ${e}`));
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
  };
}

/** Reads TARGETS_FILE, or nothing when it is not set. */
export async function readDeclared(config: Config, now: number): Promise<{ ok: true; value?: DocumentContents } | { ok: false; errors: string[] }> {
  if (config.targetsFile === undefined) return { ok: true };
  return readTargetsFile(config.targetsFile, declaredContext(config, now));
}
