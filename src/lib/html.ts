/** Escapes text for Telegram's HTML parse mode. Every user-supplied value goes through it. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Cuts Telegram HTML to at most `limit` characters, ending with `…`: never inside a tag, an entity or a
 * surrogate pair, and with every tag still open closed again, so Telegram can still parse what is left.
 */
export function clipHtml(html: string, limit: number): string {
  if (html.length <= limit) return html;
  const open: string[] = [];
  let closing = 0;
  let cut = 0;
  let cutOpen: string[] = [];
  let i = 0;
  // Each step starts between two tokens: a safe place to cut if the closing tags and `…` still fit.
  while (i < html.length && i + closing + 1 <= limit) {
    cut = i;
    cutOpen = [...open];
    const ch = html.charCodeAt(i);
    if (ch === 0x3c /* < */) {
      const end = html.indexOf('>', i);
      const tag = /^<(\/?)([a-z][a-z0-9-]*)/i.exec(html.slice(i, Math.min(end + 1, i + 64)));
      if (end === -1 || !tag) {
        i++;
        continue;
      }
      const name = tag[2]!.toLowerCase();
      if (tag[1] === '/') {
        if (open.at(-1) === name) closing -= open.pop()!.length + 3;
      } else {
        open.push(name);
        closing += name.length + 3;
      }
      i = end + 1;
    } else if (ch === 0x26 /* & */) {
      const entity = /^&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/i.exec(html.slice(i, i + 12));
      i += entity ? entity[0].length : 1;
    } else {
      i += ch >= 0xd800 && ch <= 0xdbff ? 2 : 1;
    }
  }
  return `${html.slice(0, cut)}…${cutOpen.reverse().map((name) => `</${name}>`).join('')}`;
}

/** Cuts plain text to at most `limit` characters, ending with `…`, never inside a surrogate pair. */
export function clipPlain(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit - 1;
  const before = text.charCodeAt(cut - 1);
  if (before >= 0xd800 && before <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}
