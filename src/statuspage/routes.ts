import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { availability } from '../domain/history.js';
import type { Logger } from '../lib/logger.js';
import { statusBadge, uptimeBadge, badgeSvg } from './badge.js';
import { buildPageModel, type PageSources } from './build.js';
import { renderStatusPage } from './render.js';
import type { StatusPages } from './pages.js';

// The public side of status pages on Lookout's HTTP server: GET /status/<slug> (HTML) and
// GET /badge/<slug>/<target>.svg. A refreshing crowd costs little: each page and badge is rendered at
// most once per `cacheMs` whatever the number of readers (concurrent misses share one render), answers
// carry an ETag, and a reader that has the current one gets 304 without a body.

/** What the public routes need. */
export interface StatusRoutesDeps {
  pages: StatusPages;
  sources: PageSources;
  now: () => number;
  /** How long a rendered page or badge is served before it is built again (ms, default 5 s). */
  cacheMs?: number;
  /** How often the page reloads itself (s, default 30). */
  refreshSeconds?: number;
  count?(kind: 'page' | 'badge', notModified: boolean): void;
  logger?: Logger;
}

interface Rendered {
  body: string;
  etag: string;
  type: string;
  status: number;
  at: number;
}

/** Headers that keep the page to itself: nothing loads from anywhere, nothing embeds it, no referrer leaves. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const etagOf = (body: string): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

/** `30d` / `24h` → ms (1 h to 90 d), or undefined. */
function periodMs(text: string): number | undefined {
  const m = /^(\d{1,3})([hd])$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000);
  return ms >= 3_600_000 && ms <= 90 * 86_400_000 ? ms : undefined;
}

/** The request handler of /status/… and /badge/…; false for any other path. */
export function createStatusRoutes(deps: StatusRoutesDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const cacheMs = deps.cacheMs ?? 5_000;
  const refresh = deps.refreshSeconds ?? 30;
  const cache = new Map<string, Rendered>();
  const building = new Map<string, Promise<Rendered>>();

  /** The cached answer of `key`, or one build shared by every request that misses. */
  const cached = async (key: string, build: () => Promise<Omit<Rendered, 'etag' | 'at'>>): Promise<Rendered> => {
    const hit = cache.get(key);
    if (hit && deps.now() - hit.at < cacheMs) return hit;
    const running = building.get(key);
    if (running) return running;
    const promise = build()
      .then((r) => {
        const done: Rendered = { ...r, etag: etagOf(r.body), at: deps.now() };
        // Only pages that exist are kept: a page published a moment after a 404 is there at once.
        if (r.status === 200) cache.set(key, done);
        else cache.delete(key);
        if (cache.size > 2_000) cache.delete(cache.keys().next().value!);
        return done;
      })
      .finally(() => building.delete(key));
    building.set(key, promise);
    return promise;
  };

  const send = (req: IncomingMessage, res: ServerResponse, r: Rendered, kind: 'page' | 'badge'): void => {
    const headers = {
      'content-type': r.type,
      etag: r.etag,
      'cache-control': `public, max-age=${Math.round(cacheMs / 1_000)}, must-revalidate`,
      ...(kind === 'page' ? PAGE_HEADERS : { 'x-content-type-options': 'nosniff' }),
    };
    const match = req.headers['if-none-match'];
    if (r.status === 200 && match !== undefined && match.split(',').some((t) => t.trim() === r.etag)) {
      res.writeHead(304, headers);
      res.end();
      deps.count?.(kind, true);
      return;
    }
    res.writeHead(r.status, { ...headers, 'content-length': Buffer.byteLength(r.body) });
    res.end(req.method === 'HEAD' ? undefined : r.body);
    deps.count?.(kind, false);
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lookout');
    const page = /^\/status\/([a-z0-9-]{1,40})\/?$/.exec(url.pathname);
    const badge = /^\/badge\/([a-z0-9-]{1,40})\/([^/]{1,64})\.svg$/.exec(url.pathname);
    if (!page && !badge) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed');
      return true;
    }
    if (page) {
      const slug = page[1]!;
      // `?refresh=off`: the same page without reloading itself (the reader's control, WCAG 2.2.1).
      const still = url.searchParams.get('refresh') === 'off';
      const r = await cached(`page:${slug}:${still ? 'still' : 'reloading'}`, async () => {
        const p = await deps.pages.get(slug);
        if (!p) return { status: 404, type: 'text/html; charset=utf-8', body: '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not found</title><p>There is no status page here.</p></html>' };
        const model = await buildPageModel(deps.sources, p, deps.now(), still ? 0 : refresh, still);
        return { status: 200, type: 'text/html; charset=utf-8', body: renderStatusPage(model) };
      });
      send(req, res, r, 'page');
      return true;
    }
    const [, slug, rawName] = badge!;
    let name: string;
    try {
      name = decodeURIComponent(rawName!).toLowerCase();
    } catch {
      name = '';
    }
    const type = url.searchParams.get('type') ?? 'status';
    const periodText = url.searchParams.get('period') ?? '30d';
    const period = periodMs(periodText);
    const r = await cached(`badge:${slug}:${name}:${type}:${periodText}`, async () => {
      const svg = { type: 'image/svg+xml; charset=utf-8' };
      if ((type !== 'status' && type !== 'uptime') || period === undefined) return { ...svg, status: 400, body: badgeSvg('badge', type !== 'status' && type !== 'uptime' ? 'type: status or uptime' : 'period: 1h-90d', '#9e9e9e') };
      const p = await deps.pages.get(slug!);
      const targets = p ? await deps.sources.targets(p.chatId) : [];
      const target = p && (p.targets === undefined || p.targets.includes(name)) ? targets.find((t) => t.name === name) : undefined;
      if (!target) return { ...svg, status: 404, body: badgeSvg(name || 'badge', 'not found', '#9e9e9e') };
      if (type === 'status') return { ...svg, status: 200, body: statusBadge(target.name, target.paused ? 'PAUSED' : (deps.sources.state(target.id)?.state ?? 'UNKNOWN')) };
      const now = deps.now();
      const a = availability(await deps.sources.history.timeline(target.id), Math.max(now - period, target.createdAt), now);
      return { ...svg, status: 200, body: uptimeBadge(target.name, a.uptimePct, periodText) };
    });
    send(req, res, r, 'badge');
    return true;
  };
}
