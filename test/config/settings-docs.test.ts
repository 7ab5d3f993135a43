import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS, type Setting } from '../../src/config/settings.js';
import { tablesWithHeader } from '../support/markdown-tables.js';

// README's settings tables and `.env.example` are written by hand; this holds them to the declared list
// (src/config/settings.ts plus the channel kinds' `env`), which is what parseEnv reads.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const ENV_EXAMPLE = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

/** Ranges as README and `.env.example` write them: `60-400`, `0.1s-10s`. */
const RANGE_RE = /(?<![\w.:/-])(\d+(?:\.\d+)?s?-\d+(?:\.\d+)?s?)(?![\w.-])/g;
const rangesIn = (text: string): string[] => [...text.matchAll(RANGE_RE)].map((m) => m[1]!);

/** Where the lists differ: names missing from a document, and names it lists that are no setting. */
function nameProblems(where: string, listed: readonly string[], settings: readonly Setting[]): string[] {
  const known = new Set(settings.map((s) => s.name));
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const name of listed) {
    if (seen.has(name)) problems.push(`${where}: ${name} is listed twice`);
    seen.add(name);
    if (!known.has(name)) problems.push(`${where}: ${name} is not a setting Lookout reads`);
  }
  for (const s of settings) if (!seen.has(s.name)) problems.push(`${where}: ${s.name} is missing`);
  return problems;
}

/**
 * What is wrong with README's settings tables (every `| variable | default | meaning |` table): one row
 * per setting, its default exactly as declared, its range stated (and no other), each allowed value named.
 */
function readmeProblems(markdown: string, settings: readonly Setting[]): string[] {
  const problems: string[] = [];
  const rows = tablesWithHeader(markdown, ['variable', 'default', 'meaning']).flat();
  if (rows.length === 0) return ['README: no `| variable | default | meaning |` table'];
  const listed: string[] = [];
  for (const { line, cells } of rows) {
    const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    if (names.length !== 1 || cells.length !== 3) {
      problems.push(`README line ${line}: a settings row names one variable in backticks and has 3 cells, got ${JSON.stringify(cells)}`);
      listed.push(...names);
      continue;
    }
    const name = names[0]!;
    listed.push(name);
    const setting = settings.find((s) => s.name === name);
    if (!setting) continue;
    const [, shown, meaning] = cells as [string, string, string];
    if (shown !== setting.shownDefault) problems.push(`README line ${line}: ${name} default is ${shown}, the code's is ${setting.shownDefault}`);
    const ranges = rangesIn(meaning);
    const expected = setting.range !== undefined ? [setting.range] : [];
    if (ranges.join() !== expected.join()) {
      problems.push(`README line ${line}: ${name} range is ${ranges.length > 0 ? ranges.join(', ') : 'not stated'}, the code's is ${setting.range ?? 'none'}`);
    }
    for (const v of setting.values ?? []) if (!meaning.includes(`\`${v}\``)) problems.push(`README line ${line}: ${name} does not name its value \`${v}\``);
  }
  return [...problems, ...nameProblems('README', listed, settings)];
}

/**
 * What is wrong with `.env.example`: every setting once, as `NAME=value` or commented `# NAME=value`;
 * a value shown for a setting with a fixed default is that default; a secret that is not commented out
 * has no value; a range in a comment is the range of one of the settings right below it.
 */
function envExampleProblems(text: string, settings: readonly Setting[]): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  const entry = (line: string): { commented: boolean; name: string; value: string } | undefined => {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    return m ? { commented: m[1] !== undefined, name: m[2]!, value: m[3]!.trim() } : undefined;
  };
  const listed: string[] = [];
  lines.forEach((line, i) => {
    const e = entry(line);
    if (e) {
      listed.push(e.name);
      const setting = settings.find((s) => s.name === e.name);
      if (!setting) return;
      if (e.value !== '' && setting.literalDefault !== undefined && e.value !== setting.literalDefault) {
        problems.push(`.env.example line ${i + 1}: ${e.name}=${e.value}, the code's default is ${setting.literalDefault}`);
      }
      if (setting.secret && !e.commented && e.value !== '') problems.push(`.env.example line ${i + 1}: the secret ${e.name} has a value`);
      return;
    }
    const ranges = line.trim().startsWith('#') ? rangesIn(line) : [];
    if (ranges.length === 0) return;
    // The settings this comment is about: the run of setting lines below it (past further comment lines).
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim().startsWith('#') && !entry(lines[j]!)) j++;
    const below: Setting[] = [];
    for (; j < lines.length && entry(lines[j]!); j++) {
      const s = settings.find((x) => x.name === entry(lines[j]!)!.name);
      if (s) below.push(s);
    }
    for (const r of ranges) {
      if (!below.some((s) => s.range === r)) {
        problems.push(`.env.example line ${i + 1}: range ${r} is not the range of ${below.map((s) => `${s.name} (${s.range ?? 'none'})`).join(', ') || 'any setting below it'}`);
      }
    }
  });
  return [...problems, ...nameProblems('.env.example', listed, settings)];
}

describe('README and .env.example list the settings the code reads', () => {
  it('README: every setting once, with the default, range and values the code has', () => {
    expect(readmeProblems(README, SETTINGS)).toEqual([]);
  });

  it('.env.example: every setting once, with the code defaults and ranges', () => {
    expect(envExampleProblems(ENV_EXAMPLE, SETTINGS)).toEqual([]);
  });
});

describe('the checks catch drift', () => {
  const history = SETTINGS.find((s) => s.name === 'HISTORY_DAYS')!;
  const replaceRow = (name: string, row: string): string => README.replace(new RegExp(`^\\| \`${name}\` \\|.*$`, 'm'), row);

  it('a README range or default that is not the code one', () => {
    expect(readmeProblems(replaceRow('HISTORY_DAYS', '| `HISTORY_DAYS` | `90` | days of per-hour history (7-400) |'), SETTINGS)).toEqual([
      expect.stringContaining(`HISTORY_DAYS range is 7-400, the code's is ${history.range}`),
    ]);
    expect(readmeProblems(replaceRow('HISTORY_DAYS', '| `HISTORY_DAYS` | `30` | days (60-400) |'), SETTINGS)).toEqual([expect.stringContaining("HISTORY_DAYS default is `30`, the code's is `90`")]);
    expect(readmeProblems(replaceRow('HISTORY_DAYS', '| `HISTORY_DAYS` | `90` | days |'), SETTINGS)).toEqual([expect.stringContaining('HISTORY_DAYS range is not stated')]);
    expect(readmeProblems(replaceRow('DATA_DIR', '| `DATA_DIR` | `./data` | where the database lives (1-5) |'), SETTINGS)).toEqual([expect.stringContaining('DATA_DIR range is 1-5')]);
  });

  it('a README row missing, unknown, doubled or naming two variables, and a value not named', () => {
    expect(readmeProblems(README.replace(/^\| `TRACE_MAX_HOPS` \|.*\n/m, ''), SETTINGS)).toEqual(['README: TRACE_MAX_HOPS is missing']);
    // A blank line ends a Markdown table: the rows after it are no longer in it.
    expect(readmeProblems(replaceRow('TRACE_MAX_HOPS', ''), SETTINGS)).toEqual(['README: TRACE_MAX_HOPS is missing', 'README: TRACE_TIMEOUT is missing', 'README: MTR_PATH is missing']);
    const extra = replaceRow('DATA_DIR', '| `DATA_DIR` | `./data` | where |\n| `DATA_PATH` | empty | old name |');
    expect(readmeProblems(extra, SETTINGS)).toEqual(['README: DATA_PATH is not a setting Lookout reads']);
    const twice = replaceRow('DATA_DIR', '| `DATA_DIR` | `./data` | where |\n| `DATA_DIR` | `./data` | again |');
    expect(readmeProblems(twice, SETTINGS)).toEqual(['README: DATA_DIR is listed twice']);
    const both = replaceRow('WEBHOOK_URL', '| `WEBHOOK_URL`, `WEBHOOK_SECRET` | empty | webhook mode |').replace(/^\| `WEBHOOK_SECRET` \|.*\n/m, '');
    expect(readmeProblems(both, SETTINGS)).toEqual([expect.stringContaining('names one variable')]);
    expect(readmeProblems(replaceRow('TRACE_MODE', '| `TRACE_MODE` | `auto` | `icmp` or `auto` |'), SETTINGS)).toEqual([expect.stringContaining('TRACE_MODE does not name its value `tcp`')]);
    expect(readmeProblems('# no tables', SETTINGS)).toEqual([expect.stringContaining('no `| variable | default | meaning |` table')]);
  });

  it('.env.example: a setting missing or unknown, a wrong default, a secret with a value, a stale range', () => {
    const without = ENV_EXAMPLE.replace(/^# STATUS_TOKEN=.*\n/m, '');
    expect(without).not.toBe(ENV_EXAMPLE);
    expect(envExampleProblems(without, SETTINGS)).toEqual(['.env.example: STATUS_TOKEN is missing']);
    // Without TRACE_CYCLES, the range its comment states belongs to no setting below it any more.
    expect(envExampleProblems(ENV_EXAMPLE.replace(/^# TRACE_CYCLES=.*\n/m, ''), SETTINGS)).toEqual([
      expect.stringContaining('range 1-100 is not the range of TRACE_MODE (none), TRACE_INTERVAL (0.1s-10s)'),
      '.env.example: TRACE_CYCLES is missing',
    ]);
    expect(envExampleProblems(`${ENV_EXAMPLE}\n# DATA_PATH=./data\n`, SETTINGS)).toEqual(['.env.example: DATA_PATH is not a setting Lookout reads']);
    expect(envExampleProblems(`${ENV_EXAMPLE}\nDATA_DIR=./data\n`, SETTINGS)).toEqual(['.env.example: DATA_DIR is listed twice']);
    expect(envExampleProblems(ENV_EXAMPLE.replace(/^# HISTORY_DAYS=.*$/m, '# HISTORY_DAYS=30'), SETTINGS)).toEqual([expect.stringContaining("HISTORY_DAYS=30, the code's default is 90")]);
    expect(envExampleProblems(ENV_EXAMPLE.replace(/^WEBHOOK_SECRET=.*$/m, 'WEBHOOK_SECRET=change-me'), SETTINGS)).toEqual([expect.stringContaining('the secret WEBHOOK_SECRET has a value')]);
    const stale = ENV_EXAMPLE.replace(/\(60-400\)/, '(7-400)');
    expect(stale).not.toBe(ENV_EXAMPLE);
    expect(envExampleProblems(stale, SETTINGS)).toEqual([expect.stringContaining('range 7-400 is not the range of HISTORY_MINUTE_HOURS (24-168), HISTORY_DAYS (60-400)')]);
  });
});
