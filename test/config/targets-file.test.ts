import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocumentText, readTargetsFile } from '../../src/config/targets-file.js';
import type { DocumentContext } from '../../src/targets/document.js';

const ctx: DocumentContext = { now: Date.UTC(2026, 11, 1), allowMetadata: false, defaultChatId: 0, managed: 'file' };

describe('parseDocumentText', () => {
  it('reads YAML with /add-style values', () => {
    const parsed = parseDocumentText(
      ['version: 1', 'targets:', '  - name: api', '    url: http://127.0.0.1:1/health', '    every: 30s', '    expect: 200-299', '    latency: 800', '    headers:', '      X-Key: abc'].join('\n'),
      'targets.yaml',
      ctx,
    );
    expect(parsed.ok && parsed.value.targets[0]).toMatchObject({ id: '0/api', everyMs: 30_000, latencyMs: 800, headers: [{ name: 'X-Key', value: 'abc' }], managed: 'file' });
  });

  it('reads JSON', () => {
    const parsed = parseDocumentText('{"version":1,"targets":[{"host":"127.0.0.1:5432","name":"db"}]}', 'targets.json', ctx);
    expect(parsed.ok && parsed.value.targets[0]).toMatchObject({ id: '0/db', kind: 'tcp', port: 5432 });
  });

  it.each([
    ['targets.yaml', 'version: 1\ntargets:\n  - name: a\n   url: x', /^targets\.yaml is not valid YAML: /],
    ['targets.yaml', 'version: 1\nversion: 1\n', /^targets\.yaml is not valid YAML: a key is given twice \("version"\) on line 2/],
    ['targets.json', '{"version": 1,', /^targets\.json is not valid JSON: /],
  ])('names the syntax error of %s', (name, text, error) => {
    const parsed = parseDocumentText(text, name, ctx);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors).toHaveLength(1);
      expect(parsed.errors[0]).toMatch(error);
    }
  });

  it('prefixes every problem with the file name', () => {
    const parsed = parseDocumentText('version: 1\ntargets:\n  - url: http://127.0.0.1:1/\n    every: 5s\n', 'ops/targets.yaml', ctx);
    expect(parsed).toEqual({ ok: false, errors: ['ops/targets.yaml: targets[0]: every must be between 10s and 1d, got "5s"'] });
  });
});

describe('readTargetsFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-file-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says when the file does not exist', async () => {
    expect(await readTargetsFile(join(dir, 'nope.yaml'), ctx)).toEqual({ ok: false, errors: [`TARGETS_FILE ${join(dir, 'nope.yaml')} does not exist`] });
  });

  it('reads a file from disk', async () => {
    await writeFile(join(dir, 't.yml'), 'version: 1\ntargets:\n  - url: http://127.0.0.1:1/\n');
    const parsed = await readTargetsFile(join(dir, 't.yml'), ctx);
    expect(parsed.ok && parsed.value.targets.map((t) => t.id)).toEqual(['0/127-0-0-1']);
  });

  it('the shipped examples/targets.yaml is valid: three targets and a weekly window', async () => {
    const parsed = await readTargetsFile('examples/targets.yaml', ctx);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.value.targets.map((t) => `${t.name}:${t.kind}`)).toEqual(['lookout:http', 'example:http', 'nothing-here:tcp']);
    expect(parsed.value.windows).toMatchObject([{ id: 'w1', targetId: '0/example', cron: '0 3 * * SUN', durationMs: 1_800_000 }]);
  });
});
