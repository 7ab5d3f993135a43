import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApi, type ApiDeps } from './api.js';
import { openApiDocument, PROBLEM_TYPES } from './openapi.js';
import { otherRoutes } from './other-routes.js';
import { targetRoutes } from './targets-routes.js';

/** Every route of /api/v1, in the order the OpenAPI document lists them. */
export const apiRoutes = (deps: ApiDeps) => [...targetRoutes(deps), ...otherRoutes(deps)];

/** The REST API's request handler: /api/v1/openapi.json and /api/v1/problems are public, the rest needs a token. */
export function createRestApi(deps: ApiDeps, version: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const routes = apiRoutes(deps);
  const document = openApiDocument(routes, version);
  return createApi(deps, routes, { '/openapi.json': () => document, '/problems': () => PROBLEM_TYPES });
}
