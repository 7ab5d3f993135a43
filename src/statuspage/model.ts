import type { TargetState } from '../domain/state.js';

/** One day of a target's 90-day bar. */
export interface DayCell {
  /** YYYY-MM-DD, UTC. */
  day: string;
  /** Undefined: no data that day. */
  uptimePct?: number;
  downMs: number;
}

/** One target on a status page. */
export interface PageTarget {
  name: string;
  state: TargetState;
  /** When it entered its state (ms). */
  since?: number;
  /** Only when the page shows addresses (show-urls). */
  address?: string;
  /** 90 cells, oldest first. */
  days: DayCell[];
  /** Over the 90 days. */
  uptimePct?: number;
  /** An SVG document rendered by our own chart code (trusted markup, inlined as is). */
  latencySvg?: string;
}

/** An incident on the page. */
export interface PageIncident {
  target: string;
  from: number;
  /** Undefined: still open. */
  to?: number;
  reason?: string;
}

/** What a status page shows. */
export interface StatusPageModel {
  title: string;
  generatedAt: number;
  /** The page reloads itself after this many seconds (meta refresh: works without JS). */
  refreshSeconds: number;
  /** With refreshSeconds 0: the reader turned reloading off (`?refresh=off`), and the page offers to turn it on again. */
  refreshOffered?: boolean;
  targets: PageTarget[];
  openIncidents: PageIncident[];
  /** Closed ones, newest first (at most ~10). */
  recentIncidents: PageIncident[];
}

/** How good a day's or a period's uptime is: it picks the colour of a bar cell and of an uptime badge. */
export type UptimeLevel = 'good' | 'fair' | 'poor' | 'bad' | 'none';

/** ≥ 99.9 % good, ≥ 99 % fair, ≥ 95 % poor, below bad; undefined (no data) none. */
export function uptimeLevel(pct: number | undefined): UptimeLevel {
  if (pct === undefined || Number.isNaN(pct)) return 'none';
  if (pct >= 99.9) return 'good';
  if (pct >= 99) return 'fair';
  if (pct >= 95) return 'poor';
  return 'bad';
}

/** `99.95%`, `100%`, `99.9%`: two decimals at most, rounded down so that a day with any downtime never reads 100%. */
export function formatPct(pct: number): string {
  if (pct >= 100) return '100%';
  // The epsilon keeps 99.95 (stored as 99.9499…) from flooring to 99.94.
  const floored = Math.max(0, Math.floor(pct * 100 + 1e-9) / 100);
  return `${String(Number(floored.toFixed(2)))}%`;
}
