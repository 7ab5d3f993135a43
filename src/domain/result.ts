/** Outcome of parsing or validating user input: a value, or the user-facing reasons it was refused. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A successful parse. */
export const valid = <T>(value: T): Parsed<T> => ({ ok: true, value });

/** A refused parse with one or more user-facing messages. */
export const invalid = <T = never>(...errors: string[]): Parsed<T> => ({ ok: false, errors });
