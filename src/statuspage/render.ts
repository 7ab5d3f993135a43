import type { TargetState } from '../domain/state.js';
import { escapeHtml } from '../lib/html.js';
import { formatPct, uptimeLevel, type DayCell, type PageIncident, type PageTarget, type StatusPageModel } from './model.js';

// The public status page as one self-contained HTML document: no script, no link, no remote font or
// image (the routes' CSP forbids them anyway), so it works with JavaScript off and leaks no reader to a
// third party. Every user-supplied text is escaped; only the latency SVG, drawn by our own chart code,
// is inlined as is.

/** What the banner at the top says about all the targets together. */
export type OverallStatus = 'operational' | 'degraded' | 'partial' | 'major' | 'maintenance' | 'unknown';

/**
 * The banner's verdict: any DOWN is an outage, major when more than half of the targets with a known
 * state (UP, DEGRADED, DOWN) are down; then DEGRADED, then MAINTENANCE; all UP is operational. PAUSED and
 * UNKNOWN targets do not count: a page with nothing else is `unknown`.
 */
export function overallStatus(states: readonly TargetState[]): OverallStatus {
  const count = (state: TargetState): number => states.filter((s) => s === state).length;
  const down = count('DOWN');
  const known = down + count('UP') + count('DEGRADED');
  if (down > 0) return down * 2 > known ? 'major' : 'partial';
  if (count('DEGRADED') > 0) return 'degraded';
  if (count('MAINTENANCE') > 0) return 'maintenance';
  if (count('UP') > 0) return 'operational';
  return 'unknown';
}

/** `45s`, `12m`, `1h 5m`, `2d 3h`: a duration in words, rounded down. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1_000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 > 0 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 > 0 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** `<time>` of an epoch ms: `2026-11-30 14:05 UTC` (with seconds on request). */
function timeTag(ms: number, seconds = false): string {
  if (!Number.isFinite(ms)) return 'an unknown time';
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} UTC</time>`;
}

// 16×16 icons drawn in the text colour: each state has its own shape, so colour is never the only cue.
const ICON_PATHS: Readonly<Record<TargetState, string>> = {
  UP: '<path d="M6.3 11.7 2.6 8l1.2-1.2 2.5 2.5 5.9-5.9 1.2 1.2z"/>',
  DEGRADED: '<path d="M8 1 15.5 14.5H.5zm-.9 4.5v4.6h1.8V5.5zm0 5.8v1.8h1.8v-1.8z" fill-rule="evenodd"/>',
  DOWN: '<path d="M4.1 2.9 8 6.8l3.9-3.9 1.2 1.2L9.2 8l3.9 3.9-1.2 1.2L8 9.2l-3.9 3.9-1.2-1.2L6.8 8 2.9 4.1z"/>',
  MAINTENANCE: '<path d="M8 1.5a6.5 6.5 0 1 1 0 13 6.5 6.5 0 0 1 0-13zm0 1.7a4.8 4.8 0 1 0 0 9.6 4.8 4.8 0 0 0 0-9.6zM7.2 4.5h1.5v3.1l2.3 1.4-.8 1.3-3-1.8z" fill-rule="evenodd"/>',
  PAUSED: '<path d="M4 3h3v10H4zm5 0h3v10H9z"/>',
  UNKNOWN: '<path d="M2.5 7h11v2h-11z"/>',
};
const icon = (state: TargetState): string => `<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false" fill="currentColor">${ICON_PATHS[state]}</svg>`;

/** A state in words. */
function stateWords(state: TargetState): string {
  switch (state) {
    case 'UP':
      return 'Up';
    case 'DEGRADED':
      return 'Degraded';
    case 'DOWN':
      return 'Down';
    case 'MAINTENANCE':
      return 'Maintenance';
    case 'PAUSED':
      return 'Paused';
    case 'UNKNOWN':
      return 'Unknown';
    default: {
      const missing: never = state;
      throw new Error(`no words for state ${String(missing)}`);
    }
  }
}

/** The banner's words and the state whose icon it borrows. */
function overallLook(status: OverallStatus): [string, TargetState] {
  switch (status) {
    case 'operational':
      return ['All systems operational', 'UP'];
    case 'degraded':
      return ['Degraded performance', 'DEGRADED'];
    case 'partial':
      return ['Partial outage', 'DOWN'];
    case 'major':
      return ['Major outage', 'DOWN'];
    case 'maintenance':
      return ['Maintenance in progress', 'MAINTENANCE'];
    case 'unknown':
      return ['Status not known yet', 'UNKNOWN'];
    default: {
      const missing: never = status;
      throw new Error(`no banner for ${String(missing)}`);
    }
  }
}

const stateClass = (state: TargetState): string => `k-${state.toLowerCase()}`;

/** A day's tooltip and accessible name: `2026-11-30: 99.95% up, down 4m`. */
function dayLabel(cell: DayCell): string {
  if (cell.uptimePct === undefined) return `${cell.day}: no data`;
  return `${cell.day}: ${formatPct(cell.uptimePct)} up${cell.downMs > 0 ? `, down ${formatDuration(cell.downMs)}` : ''}`;
}

/** One target's card: name, state, since, address, the 90-day bar with its table, the latency chart. */
function renderTarget(t: PageTarget, index: number, now: number): string {
  const id = `t${index + 1}`;
  const name = escapeHtml(t.name);
  const since =
    t.since === undefined ? '' : `since ${timeTag(t.since)}${t.since <= now ? ` (${formatDuration(now - t.since)})` : ''}`;
  const meta = [since, t.address === undefined ? '' : `<span class="addr">${escapeHtml(t.address)}</span>`].filter(Boolean);
  const uptime = t.uptimePct === undefined ? 'no data yet' : `${formatPct(t.uptimePct)} uptime`;
  const cells = t.days.map((d) => {
    const label = escapeHtml(dayLabel(d));
    return `<li class="${uptimeLevel(d.uptimePct)}" title="${label}" aria-label="${label}"></li>`;
  });
  const rows = [...t.days].reverse().map((d) => {
    const pct = d.uptimePct === undefined ? 'no data' : formatPct(d.uptimePct);
    const down = d.uptimePct === undefined ? '–' : d.downMs > 0 ? formatDuration(d.downMs) : 'none';
    return `<tr><th scope="row">${escapeHtml(d.day)}</th><td>${pct}</td><td>${down}</td></tr>`;
  });
  const chart =
    t.latencySvg === undefined
      ? ''
      : `<figure class="chart"><div class="chart-img" role="img" aria-labelledby="${id}-cap">${t.latencySvg}</div><figcaption id="${id}-cap">Response time of ${name}</figcaption></figure>`;
  return `<section class="card target s-${t.state.toLowerCase()}" aria-labelledby="${id}">
<div class="head"><h3 id="${id}">${name}</h3><span class="pill ${stateClass(t.state)}">${icon(t.state)}${stateWords(t.state)}</span></div>
${meta.length > 0 ? `<p class="meta">${meta.join('<span aria-hidden="true"> · </span><br class="nl">')}</p>` : ''}
<ol class="bar" aria-label="Daily uptime of ${name}, last ${t.days.length} days, oldest first">${cells.join('')}</ol>
<p class="scale"><span>${t.days.length} days ago</span><strong>${uptime}</strong><span>Today</span></p>
<details><summary>Daily uptime<span class="sr"> of ${name}</span></summary><table><caption class="sr">Daily uptime of ${name}, newest first</caption><thead><tr><th scope="col">Day (UTC)</th><th scope="col">Uptime</th><th scope="col">Downtime</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>
${chart}
</section>`;
}

/** An ongoing incident: target, since when, why. */
function renderOpen(i: PageIncident, now: number): string {
  const running = i.from <= now ? ` (for ${formatDuration(now - i.from)})` : '';
  return `<li class="card inc open"><p class="inc-head"><strong>${escapeHtml(i.target)}</strong> <span class="muted">since ${timeTag(i.from)}${running}</span></p>${reason(i)}</li>`;
}

/** A past incident: target, start, how long it lasted, why. */
function renderRecent(i: PageIncident): string {
  const lasted = i.to === undefined ? 'still ongoing' : `lasted ${formatDuration(i.to - i.from)}`;
  return `<li class="card inc"><p class="inc-head"><strong>${escapeHtml(i.target)}</strong> <span class="muted">started ${timeTag(i.from)}, ${lasted}</span></p>${reason(i)}</li>`;
}

const reason = (i: PageIncident): string => (i.reason === undefined || i.reason === '' ? '' : `<p class="reason">${escapeHtml(i.reason)}</p>`);

/**
 * The control WCAG 2.2.1 asks for, before the reader meets the time limit: a page that reloads itself
 * says so and links to the same page without reloading (`?refresh=off`), which links back.
 */
function refreshControl(refresh: number, offered: boolean): string {
  if (refresh > 0) return `<p class="refresh">This page reloads itself every ${formatDuration(refresh * 1_000)}. <a href="?refresh=off">Stop reloading</a></p>`;
  return offered ? '<p class="refresh">Automatic reloading is off. <a href="?">Reload automatically</a></p>' : '';
}

/** The whole page: a complete HTML5 document, refreshing itself every `refreshSeconds` (0: never). */
export function renderStatusPage(m: StatusPageModel): string {
  const title = escapeHtml(m.title);
  const status = overallStatus(m.targets.map((t) => t.state));
  const [banner, bannerState] = overallLook(status);
  const refresh = Number.isFinite(m.refreshSeconds) && m.refreshSeconds > 0 ? Math.round(m.refreshSeconds) : 0;
  const ongoing =
    m.openIncidents.length === 0
      ? ''
      : `<section aria-labelledby="ongoing"><h2 id="ongoing">Ongoing incidents</h2><ul class="incs">${m.openIncidents.map((i) => renderOpen(i, m.generatedAt)).join('')}</ul></section>`;
  const noRecent = m.openIncidents.length === 0 ? 'No incidents in the last 90 days.' : 'No resolved incidents in the last 90 days.';
  const recent =
    m.recentIncidents.length === 0 ? `<p>${noRecent}</p>` : `<ul class="incs">${m.recentIncidents.map(renderRecent).join('')}</ul>`;
  const targets = m.targets.length === 0 ? '<p>This page shows no targets yet.</p>' : m.targets.map((t, i) => renderTarget(t, i, m.generatedAt)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh > 0 ? `<meta http-equiv="refresh" content="${refresh}">\n` : ''}<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<div class="wrap">
<header><h1>${title}</h1>${refreshControl(refresh, m.refreshOffered === true)}</header>
<main id="main" tabindex="-1">
<p class="overall o-${status}">${icon(bannerState)}<span>${banner}</span></p>
${ongoing}
<section aria-labelledby="services"><h2 id="services">Services</h2>
${targets}
</section>
<section aria-labelledby="past"><h2 id="past">Past incidents</h2>${recent}</section>
</main>
<footer><p>Updated ${timeTag(m.generatedAt, true)}${refresh > 0 ? `; this page reloads itself every ${formatDuration(refresh * 1_000)}` : ''}. Powered by Lookout</p></footer>
</div>
</body>
</html>
`;
}

// Text colours meet WCAG AA (4.5:1) on their background in both schemes; white text on every state colour too.
const CSS = `
:root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--text:#1f2328;--muted:#59636e;--line:#d1d9e0;--link:#0550ae;--focus:#0b5cd5;--good:#2da44e;--fair:#a2c438;--poor:#e8833a;--bad:#cf222e;--none:#d1d9e0}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--text:#e6edf3;--muted:#9198a1;--line:#3d444d;--link:#4493f8;--focus:#79c0ff;--good:#3fb950;--fair:#a8cf45;--poor:#f0883e;--bad:#f85149;--none:#3d444d}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,sans-serif}
.wrap{max-width:60rem;margin:0 auto;padding:1rem}
a,summary{color:var(--link)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
main:focus{outline:none}
.skip{position:absolute;left:1rem;top:-10rem;z-index:1;padding:.5rem .75rem;background:var(--card);border:2px solid var(--focus);border-radius:6px}
.skip:focus{top:.5rem}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:1.5rem 0 .75rem}
h3{font-size:1.05rem;margin:0;overflow-wrap:anywhere}
p{margin:0}
.overall{display:flex;align-items:center;gap:.6rem;padding:1rem 1.25rem;border:1px solid transparent;border-radius:8px;color:#fff;font-size:1.25rem;font-weight:600}
.overall svg{width:1.5rem;height:1.5rem;flex:none}
.card{min-width:0;margin:0 0 1rem;padding:1rem;background:var(--card);border:1px solid var(--line);border-radius:8px}
.s-down,.inc.open{border-left:4px solid var(--bad)}
.head{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem}
.pill{display:inline-flex;align-items:center;gap:.3rem;padding:.1rem .6rem;border:1px solid transparent;border-radius:999px;color:#fff;font-size:.875rem;font-weight:600;white-space:nowrap}
.pill svg{width:1rem;height:1rem}
.o-operational{background:#1a7f37}.o-degraded{background:#9a6700}.o-partial{background:#bc4c00}.o-major{background:#cf222e}.o-maintenance{background:#0969da}.o-unknown{background:#59636e}
.k-up{background:#1a7f37}.k-degraded{background:#9a6700}.k-down{background:#cf222e}.k-maintenance{background:#0969da}.k-paused,.k-unknown{background:#59636e}
.meta,.muted,.scale,figcaption,footer,.refresh{color:var(--muted);font-size:.875rem}
.refresh{margin:.25rem 0 0}
.meta{margin-top:.25rem;overflow-wrap:anywhere}
.nl{display:none}
.addr{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
.bar{display:grid;grid-template-columns:repeat(90,minmax(0,1fr));gap:1px;height:2rem;margin:.75rem 0 .25rem;padding:0;list-style:none}
.bar li{min-width:0;border-radius:1px;background:var(--none)}
.bar .good{background:var(--good)}.bar .fair{background:var(--fair)}.bar .poor{background:var(--poor)}.bar .bad{background:var(--bad)}
.scale{display:flex;justify-content:space-between;gap:.5rem}
.scale strong{color:var(--text)}
details{margin-top:.5rem}
summary{cursor:pointer;width:max-content;max-width:100%}
table{width:100%;margin-top:.5rem;border-collapse:collapse;font-size:.875rem;font-variant-numeric:tabular-nums}
th,td{padding:.2rem .5rem;text-align:left;border-bottom:1px solid var(--line)}
.chart{margin:1rem 0 0}
.chart-img{padding:.25rem;background:#fff;border:1px solid var(--line);border-radius:6px}
.chart-img svg{display:block;width:100%;height:auto}
figcaption{margin-top:.25rem}
.incs{margin:0;padding:0;list-style:none}
.inc-head strong{overflow-wrap:anywhere}
.reason{margin-top:.25rem;overflow-wrap:anywhere}
footer{margin-top:1.5rem;padding:1rem 0 2rem;border-top:1px solid var(--line)}
@media (max-width:600px){.wrap{padding:.75rem}.card{padding:.75rem}.bar{gap:0;height:1.75rem}.nl{display:inline}.meta span[aria-hidden]{display:none}}
@media (forced-colors:active){.bar li{forced-color-adjust:none}}
`;
