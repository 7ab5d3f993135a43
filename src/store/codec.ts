import { Keyv } from 'keyv';

/**
 * Keyv's serialisation, faster and with the same text. Keyv's own (`@keyv/serialize`) builds the JSON by
 * hand, key by key, to escape strings that start with `:` (`::x`) and write Buffers as `:base64:…`, and
 * reads with a JSON.parse reviver that undoes both; at 10,000 targets that is most of what storing a
 * targets file costs, and every state write pays it. Almost no stored value has such a string or a
 * Buffer: those are written and read with plain JSON, the rest by Keyv's own functions, so every stored
 * row is exactly what Keyv would have written and reads back the same (tested against them).
 */

// Keyv's own functions, as a Keyv made without options holds them (@keyv/serialize is keyv's dependency, not ours).
const keyvDefaults = new Keyv<unknown>();
const keyvSerialize = keyvDefaults.serialize!;
const keyvDeserialize = keyvDefaults.deserialize!;

/**
 * A JSON string token that starts with `:` (after `:`, `,`, `[`, or at the start). Inside a string a `"`
 * is always escaped (`\"`), so this cannot match a string's content; a key that starts with `:` also
 * matches (after `,`), which only sends the value the slow way.
 */
const COLON_STRING = /(?:^|[:,[])\s*":/;
/** What a Buffer is as JSON (Buffer#toJSON): Keyv writes it as `:base64:` instead. */
const BUFFER_JSON = '"type":"Buffer"';

type KeyvData = Parameters<typeof keyvSerialize>[0];

/** Serialises as Keyv does. */
export function serialize(data: KeyvData): string | Promise<string> {
  const text = JSON.stringify(data);
  if (text === undefined || COLON_STRING.test(text) || text.includes(BUFFER_JSON)) return keyvSerialize(data);
  return text;
}

/** Reads what {@link serialize} (or Keyv) wrote. */
export function deserialize<Value>(text: string): ReturnType<typeof keyvDeserialize<Value>> {
  if (COLON_STRING.test(text)) return keyvDeserialize<Value>(text);
  return JSON.parse(text) as ReturnType<typeof keyvDeserialize<Value>>;
}
