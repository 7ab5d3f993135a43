import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer, type HttpServer, type HttpServerDeps } from '../http/server.js';
import type { Logger } from '../lib/logger.js';
import { definePart, extendPart, type Part } from './part.js';

/** The HTTP endpoints as a part: /healthz, /metrics, /api/status, the kinds' routes and the webhook. */
export interface HttpPart extends Part {
  /** The server while it runs (undefined with HTTP_PORT=0). */
  readonly server: HttpServer | undefined;
  /** Resolves once the server listens (the webhook is registered only then). */
  readonly listening: Promise<void>;
}

/** `server`: the HTTP server's deps without the routes the chat adds (`webhook`); port 0 turns it off. */
export function createHttpPart(server: Omit<HttpServerDeps, 'extra' | 'logger'>, logger: Logger, webhook?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>): HttpPart {
  let http: HttpServer | undefined;
  let listening!: () => void;
  const listened = new Promise<void>((resolve) => (listening = resolve));
  const part = definePart(
    'http',
    {
      async start() {
        if (server.port === 0) return;
        http = await startHttpServer({ ...server, ...(webhook ? { extra: webhook } : {}), logger });
        listening();
      },
      async stop() {
        await http?.close();
        http = undefined;
      },
    },
    logger,
  );
  return extendPart<Omit<HttpPart, keyof Part>>(part, {
    get server() {
      return http;
    },
    listening: listened,
  });
}
