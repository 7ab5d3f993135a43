import { invalid, valid, type Parsed } from './result.js';

/** Command arguments split into positional words and `key=value` options (keys lower-cased, repeatable). */
export interface CommandArgs {
  positional: string[];
  options: Array<{ key: string; value: string }>;
}

/**
 * Splits command text into words the way a shell user expects, without ever running a shell:
 * whitespace separates words, double quotes group (`keyword="Service OK"`, `cron="0 2 * * SUN"`),
 * and `\"` inside quotes is a literal quote. Single quotes group too, with everything inside literal
 * (`assert='$.status == "ok"'`), but only where a word or a value starts: an apostrophe inside a word
 * (`note=don't`) is a letter.
 */
export function tokenize(text: string): Parsed<string[]> {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  let single = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (single) {
      if (ch === "'") single = false;
      else current += ch;
    } else if (!quoted && ch === "'" && (!inWord || current.endsWith('='))) {
      single = true;
      inWord = true;
    } else if (quoted) {
      if (ch === '\\' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quoted) return invalid('a quoted value is not closed: add the missing "');
  if (single) return invalid("a quoted value is not closed: add the missing '");
  if (inWord) words.push(current);
  return valid(words);
}

const KEY_RE = /^[a-z][a-z0-9_-]*$/i;

/** Tokenizes and separates positional words from `key=value` options. */
export function parseArgs(text: string): Parsed<CommandArgs> {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const args: CommandArgs = { positional: [], options: [] };
  for (const word of tokens.value) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? word.slice(0, eq) : '';
    // A URL with a query string (`https://x/?a=b`) is positional: option keys are plain words.
    if (eq > 0 && KEY_RE.test(key)) {
      args.options.push({ key: key.toLowerCase(), value: word.slice(eq + 1) });
    } else {
      args.positional.push(word);
    }
  }
  return valid(args);
}
