// The bus's limit on one message, apart from bus.ts so that what only checks a message's size does not
// load pg (a SQLite process loads no PostgreSQL code).

/** The largest message (the JSON of topic and payload, in UTF-8 bytes) the bus sends; PostgreSQL's limit is 8000. */
export const MAX_MESSAGE_BYTES = 7_900;

/** Thrown by publish for a message over {@link MAX_MESSAGE_BYTES}. */
export class MessageTooLarge extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number,
  ) {
    super(`a bus message on '${topic}' is ${bytes} bytes, more than ${MAX_MESSAGE_BYTES}: send a key and let the receiver read the rest from the store`);
    this.name = 'MessageTooLarge';
  }
}
