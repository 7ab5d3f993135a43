/** Telegram's limit for one message's text. */
export const MESSAGE_LIMIT = 4_096;

/**
 * Splits text into chunks of at most `limit` characters, at line breaks where possible, so a long
 * list becomes several messages instead of an error. Lines longer than the limit are cut.
 */
export function splitMessage(text: string, limit = MESSAGE_LIMIT): string[] {
  if (text.length <= limit) return [text];
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const pieces = line.length > limit ? line.match(new RegExp(`[\\s\\S]{1,${limit}}`, 'g')) ?? [''] : [line];
    for (const piece of pieces) {
      if (current.length + piece.length + 1 > limit && current !== '') {
        chunks.push(current);
        current = '';
      }
      current = current === '' ? piece : `${current}\n${piece}`;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}
