import type { IncidentBook } from '../alerts/incidents.js';
import type { FailureKind } from '../domain/check.js';
import { availability } from '../domain/history.js';
import type { Incident } from '../domain/incident.js';
import type { StateRecord } from '../domain/state.js';
import { targetAddress, type Target } from '../kinds/index.js';
import { chartSvg } from '../reports/chart.js';
import { statsFor } from '../reports/period.js';
import type { History } from '../store/history.js';
import type { PageIncident, PageTarget, StatusPageModel } from './model.js';
import type { StatusPage } from './pages.js';

// What a public status page shows, gathered from the chat's targets, their state timelines and
// incidents. Nothing internal leaks: addresses only with show-urls, and an incident's reason as a
// category (its raw text may name hosts and addresses) unless the page shows addresses.

/** What the page is built from. */
export interface PageSources {
  targets(chatId: number): Promise<Target[]>;
  state(targetId: string): StateRecord | undefined;
  history: Pick<History, 'timeline' | 'minutes' | 'hours'>;
  incidents: Pick<IncidentBook, 'allOpen' | 'recent'>;
  /** Several places: the places whose checks a target's latency is over. */
  placeNames?(targetId: string): readonly string[];
}

const DAY_MS = 86_400_000;
/** How many days the uptime bar shows. */
export const BAR_DAYS = 90;

const FAILURE_WORDS: Readonly<Record<FailureKind, string>> = {
  timeout: 'not answering in time',
  refused: 'refusing connections',
  reset: 'connections reset',
  dns: 'name resolution failing',
  tls: 'TLS failing',
  unreachable: 'unreachable',
  status: 'answering with errors',
  keyword: 'unexpected answers',
  protocol: 'unexpected answers',
  error: 'failing',
};

/** An incident's reason as the public may read it. */
const publicReason = (i: Incident, showUrls: boolean): string => (showUrls ? i.reason : i.failure ? FAILURE_WORDS[i.failure] : 'failing');

/** The model of a page at `now` (`refreshSeconds`: how often the page reloads itself). */
export async function buildPageModel(sources: PageSources, page: StatusPage, now: number, refreshSeconds: number, refreshOffered = false): Promise<StatusPageModel> {
  const all = await sources.targets(page.chatId);
  const byName = new Map(all.map((t) => [t.name, t]));
  const chosen = page.targets ? page.targets.flatMap((n) => byName.get(n) ?? []) : [...all].sort((a, b) => a.name.localeCompare(b.name));
  const shown = new Set(chosen.map((t) => t.id));
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const barStart = today - (BAR_DAYS - 1) * DAY_MS;
  const targets = await Promise.all(
    chosen.map(async (t): Promise<PageTarget> => {
      const timeline = await sources.history.timeline(t.id);
      const days = Array.from({ length: BAR_DAYS }, (_, i) => {
        const from = barStart + i * DAY_MS;
        const to = Math.min(from + DAY_MS, now);
        const a = from >= now || to <= t.createdAt ? undefined : availability(timeline, Math.max(from, t.createdAt), to);
        return { day: new Date(from).toISOString().slice(0, 10), ...(a?.uptimePct !== undefined ? { uptimePct: a.uptimePct } : {}), downMs: a?.downMs ?? 0 };
      });
      const whole = availability(timeline, Math.max(barStart, t.createdAt), now);
      const stats = await statsFor(sources.history as History, t.id, '24h', now, 0, sources.placeNames?.(t.id) ?? []);
      const record = sources.state(t.id);
      return {
        name: t.name,
        state: t.paused ? 'PAUSED' : (record?.state ?? 'UNKNOWN'),
        ...(record ? { since: record.since } : {}),
        ...(page.showUrls ? { address: targetAddress(t) } : {}),
        days,
        ...(whole.uptimePct !== undefined ? { uptimePct: whole.uptimePct } : {}),
        latencySvg: chartSvg(`${t.name} · response time, last 24 hours (UTC)`, '24h', stats),
      };
    }),
  );
  const view = (i: Incident): PageIncident => ({ target: i.name, from: i.openedAt, ...(i.resolvedAt !== undefined ? { to: i.resolvedAt } : {}), reason: publicReason(i, page.showUrls) });
  const open = sources.incidents
    .allOpen()
    .filter((i) => i.chatId === page.chatId && shown.has(i.targetId) && !i.suppressed)
    .sort((a, b) => b.openedAt - a.openedAt);
  const recent = (await sources.incidents.recent(page.chatId, now - BAR_DAYS * DAY_MS, 200)).filter((i) => shown.has(i.targetId) && !i.suppressed).slice(0, 10);
  return { title: page.title, generatedAt: now, refreshSeconds, ...(refreshOffered ? { refreshOffered } : {}), targets, openIncidents: open.map(view), recentIncidents: recent.map(view) };
}
