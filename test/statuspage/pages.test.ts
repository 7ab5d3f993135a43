import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/domain/options.js';
import { parsePageOptions, slugOf } from '../../src/statuspage/pages.js';

const optionsOf = (text: string) => {
  const args = parseArgs(text);
  if (!args.ok) throw new Error(args.errors.join('; '));
  return parsePageOptions(args.value, 'Ops status');
};

describe('slugOf', () => {
  it.each([
    ['Acme Status', 'acme-status'],
    ['  Ünïcode & Co!! ', 'unicode-co'],
    ['a', 'status-a'],
    ['!!!', 'status-page'],
    ['x'.repeat(60), 'x'.repeat(40)],
  ])('%s → %s', (title, slug) => expect(slugOf(title)).toBe(slug));
});

describe('/statuspage on options', () => {
  it('defaults: the chat title, its slug, every target, addresses hidden', () => {
    expect(optionsOf('')).toEqual({ ok: true, value: { title: 'Ops status', slug: 'ops-status', showUrls: false } });
  });

  it('title, targets, slug and show-urls', () => {
    expect(optionsOf('title="Acme APIs" targets=API,web,api show-urls slug=acme')).toEqual({
      ok: true,
      value: { title: 'Acme APIs', slug: 'acme', targets: ['api', 'web'], showUrls: true },
    });
  });

  it.each([
    ['title=""', 'title must be 1-80 characters'],
    [`title="${'t'.repeat(81)}"`, 'title must be 1-80 characters, got 81'],
    ['targets=,', 'targets must name at least one target'],
    ['slug=A_B', 'slug must be 3-40 characters of a-z, 0-9 and -'],
    ['slug=ab', 'slug must be 3-40'],
    ['color=red', 'unknown option "color"'],
    ['public', 'unexpected "public"'],
    ['title=a title=b', 'title is given twice'],
    ['show-urls=maybe', 'show-urls takes no value'],
  ])('%s is refused: %s', (text, error) => {
    const parsed = optionsOf(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.errors.join('\n')).toContain(error);
  });
});
