import { describe, expect, it } from 'vitest';
import { clipHtml, clipPlain, escapeHtml } from '../../src/lib/html.js';

/** Tags still open at the end of `html` (none when every tag is closed in order). */
function unclosed(html: string): string[] {
  const open: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z][a-z0-9-]*)[^>]*>/gi)) {
    if (m[1] === '/') expect(open.pop()).toBe(m[2]);
    else open.push(m[2]!);
  }
  return open;
}

describe('clipHtml', () => {
  it('leaves text within the limit alone', () => {
    expect(clipHtml('<b>a</b>', 8)).toBe('<b>a</b>');
  });

  it('closes the tags open at the cut and stays within the limit', () => {
    const html = `<b>Title</b>\n<pre>${'line of a long table\n'.repeat(500)}</pre>`;
    const clipped = clipHtml(html, 4_096);
    expect(clipped.length).toBeLessThanOrEqual(4_096);
    expect(clipped.endsWith('…</pre>')).toBe(true);
    expect(unclosed(clipped)).toEqual([]);
  });

  it('never cuts inside a tag, an entity or a surrogate pair', () => {
    const text = `<a href="https://example.com/${'p'.repeat(50)}">${escapeHtml('<&>"').repeat(20)}🔥🔥🔥</a>`;
    for (let limit = 10; limit < text.length; limit++) {
      const clipped = clipHtml(text, limit);
      expect(clipped.length, `limit ${limit}`).toBeLessThanOrEqual(limit);
      expect(clipped, `limit ${limit}`).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(unclosed(clipped), `limit ${limit}`).toEqual([]);
      // Whatever is left of the text between tags is whole entities only.
      expect(clipped.replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot);/g, ''), `limit ${limit}`).not.toMatch(/[&<>]/);
    }
  });

  it('cuts nested tags and closes them innermost first', () => {
    const clipped = clipHtml(`<b><i>${'x'.repeat(100)}</i></b>`, 40);
    expect(clipped).toBe(`<b><i>${'x'.repeat(25)}…</i></b>`);
  });
});

describe('clipPlain', () => {
  it.each([
    ['short', 10, 'short'],
    ['x'.repeat(300), 200, `${'x'.repeat(199)}…`],
    [`${'x'.repeat(198)}🔥🔥`, 200, `${'x'.repeat(198)}…`],
  ])('clips %j to %i characters', (text, limit, clipped) => {
    expect(clipPlain(text, limit)).toBe(clipped);
    expect(clipPlain(text, limit).length).toBeLessThanOrEqual(limit);
  });
});
