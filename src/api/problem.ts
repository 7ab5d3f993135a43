// Errors of the REST API as RFC 9457 problem details: a type, a title, the status, a detail in words and,
// for a refused body, one entry per problem with the field it is about.

/** One problem of a refused request, with the field it is about when it is about one. */
export interface FieldError {
  field?: string;
  detail: string;
}

/** An RFC 9457 problem details object. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

/** Where the problem types are described: `GET /api/v1/problems` lists them (a relative URI, as RFC 9457 allows). */
const TYPE_BASE = '/api/v1/problems#';

/** A request the API refuses: thrown by handlers, answered by the router. */
export class ApiProblem extends Error {
  /** `headers` go with the answer (`retry-after`, `allow`, `www-authenticate`). */
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiProblem';
  }
}

const make = (status: number, slug: string, title: string, detail?: string, extra: Partial<Problem> = {}, headers: Record<string, string> = {}): ApiProblem =>
  new ApiProblem({ type: `${TYPE_BASE}${slug}`, title, status, ...(detail !== undefined ? { detail } : {}), ...extra }, headers);

/** A field name at the start of an error text (`every must be…`, `headers.x: …`), when it is one of `fields`. */
export function fieldOf(text: string, fields: ReadonlySet<string>): string | undefined {
  const m = /^([a-z][a-z0-9_-]*)(?:[.[ :]|$)/i.exec(text);
  return m && fields.has(m[1]!) ? m[1] : undefined;
}

/** The problems the API answers with. */
export const problems = {
  badRequest: (detail: string) => make(400, 'bad-request', 'Bad request', detail),
  unauthorized: () => make(401, 'unauthorized', 'Unauthorized', 'a valid bearer token is required (API_TOKENS)', {}, { 'www-authenticate': 'Bearer realm="lookout"' }),
  forbidden: (detail: string) => make(403, 'forbidden', 'Forbidden', detail),
  notFound: (detail: string) => make(404, 'not-found', 'Not found', detail),
  methodNotAllowed: (allowed: readonly string[]) => make(405, 'method-not-allowed', 'Method not allowed', `allowed: ${allowed.join(', ')}`, {}, { allow: allowed.join(', ') }),
  conflict: (detail: string) => make(409, 'conflict', 'Conflict', detail),
  tooLarge: (maxBytes: number) => make(413, 'too-large', 'Request body too large', `the body may be at most ${maxBytes} bytes`),
  unsupported: (detail: string) => make(415, 'unsupported-media-type', 'Unsupported media type', detail),
  /** 422: every problem of the body, each with its field when the text names one of `fields`. */
  validation: (texts: readonly string[], fields: ReadonlySet<string> = new Set()) =>
    make(422, 'validation', 'Validation failed', texts.length === 1 ? texts[0] : `${texts.length} problems`, {
      errors: texts.slice(0, 50).map((detail) => {
        const field = fieldOf(detail, fields);
        return field !== undefined ? { field, detail } : { detail };
      }),
    }),
  tooMany: (retryAfterS: number) => make(429, 'rate-limited', 'Too many requests', `this token's rate limit is reached: try again in ${retryAfterS} s`, {}, { 'retry-after': String(retryAfterS) }),
  unavailable: (detail: string) => make(503, 'unavailable', 'Service unavailable', detail, {}, { 'retry-after': '5' }),
};
