import { formatDuration } from '../../../domain/duration.js';
import type { Notification } from '../../../domain/notification.js';
import { escapeHtml } from '../../../lib/html.js';
import type { Planned } from '../../batch.js';
import { formatLatency, formatTime } from '../../format.js';

/** An e-mail's subject and both its parts. */
export interface MailParts {
  subject: string;
  text: string;
  html: string;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** One line of an e-mail, in words (plain text; the HTML part escapes it). */
function lineOf(p: Planned): { text: string; colour: string } {
  if (p.kind === 'blip') {
    return { colour: '#6b7280', text: `${p.down.incident.target.name} was DOWN for ${formatDuration(Math.max(0, p.end.resolvedAt - p.down.incident.openedAt))}: ${p.down.incident.reason}` };
  }
  const n = p.notification;
  switch (n.kind) {
    case 'down': {
      const i = n.incident;
      const facts = [`reason: ${i.reason}`, ...(i.latencyMs !== undefined ? [`latency ${formatLatency(i.latencyMs)}`] : []), `since ${formatTime(i.openedAt)}`, `${i.failedChecks} failed checks`, `from ${i.source.label}`];
      return { colour: '#b91c1c', text: `${i.target.name} is DOWN (${i.target.address}): ${facts.join(', ')}${i.target.note ? `. Note: ${i.target.note}` : ''}` };
    }
    case 'up':
      return { colour: '#15803d', text: `${n.incident.target.name} is UP again after ${formatDuration(n.resolvedAt - n.incident.openedAt)}${n.now ? ` (${n.now})` : ''}` };
    case 'closed':
      return { colour: '#6b7280', text: `${n.incident.target.name}: incident closed (${n.why})` };
    case 'acknowledged':
      return { colour: '#6b7280', text: `acknowledged by ${n.by.name}` };
    case 'degraded':
      return { colour: '#b45309', text: `${n.target.name} is DEGRADED${n.detail ? `: ${n.detail}` : ''}` };
    case 'normal':
      return { colour: '#15803d', text: `${n.target.name} is back to normal (was DEGRADED for ${formatDuration(n.durationMs)})` };
    case 'maintenance':
      return { colour: '#6b7280', text: `${n.target.name} reports maintenance${n.detail ? `: ${n.detail}` : ''}` };
    case 'maintenance-over':
      return { colour: '#6b7280', text: `${n.target.name} is out of maintenance after ${formatDuration(n.durationMs)}` };
    case 'warning':
      return { colour: '#b45309', text: `${n.target.name}: ${n.warning.what === 'rate' ? `${n.warning.remaining} of ${n.warning.limit} requests left` : `${n.warning.what === 'cert' ? 'TLS certificate' : 'API token'} expires ${formatTime(n.warning.expiresAt)}`}` };
    case 'window-started':
      return { colour: '#6b7280', text: `maintenance started for ${n.scope} until ${n.until}${n.reason ? `: ${n.reason}` : ''}` };
    case 'window-ended':
    case 'window-ended-up':
      return { colour: '#6b7280', text: `${n.kind === 'window-ended' && n.window === 'mute' ? 'mute' : 'maintenance'} of ${n.scope} ended` };
    case 'reminder':
    case 'escalation':
      return { colour: '#b91c1c', text: `${n.incident.target.name} is still DOWN (since ${formatTime(n.incident.openedAt)})` };
    case 'trace':
      return { colour: '#6b7280', text: `trace to ${n.trace.host}: ${n.trace.summary}` };
    case 'test':
      return { colour: '#6b7280', text: `a test notification from Lookout, asked for by ${n.by}` };
    default:
      return { colour: '#6b7280', text: n.kind };
  }
}

/** The subject of a group: what matters most, counted. */
function subjectOf(entries: Planned[]): string {
  const downs = entries.filter((p) => p.kind === 'one' && p.notification.kind === 'down');
  const ups = entries.filter((p) => p.kind === 'one' && (p.notification.kind === 'up' || p.notification.kind === 'closed'));
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only?.kind === 'one' && only.notification.kind === 'down') return `[Lookout] DOWN: ${only.notification.incident.target.name}`;
  if (only?.kind === 'one' && only.notification.kind === 'up') return `[Lookout] UP again: ${only.notification.incident.target.name}`;
  const parts = [...(downs.length > 0 ? [`${downs.length} target${downs.length === 1 ? '' : 's'} DOWN`] : []), ...(ups.length > 0 ? [`${ups.length} recovered`] : [])];
  if (parts.length > 0) return `[Lookout] ${parts.join(', ')}`;
  return `[Lookout] ${clip(lineOf(entries[0]!).text, 120)}`;
}

/** A group of notifications as one e-mail: every target named, in a list; the HTML escapes everything, inline styles only, no remote content. */
export function mailOf(entries: Planned[]): MailParts {
  const lines = entries.map(lineOf);
  const subject = clip(subjectOf(entries).replace(/[\r\n]+/g, ' '), 200);
  const text = [...lines.map((l) => `- ${l.text}`), '', '-- Lookout'].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827">',
    `<p style="font-weight:600">${escapeHtml(subject.replace(/^\[Lookout\] /, ''))}</p>`,
    '<ul style="padding-left:1.2em">',
    ...lines.map((l) => `<li style="margin:.3em 0"><span style="color:${l.colour}">&#9679;</span> ${escapeHtml(l.text)}</li>`),
    '</ul><p style="color:#6b7280;font-size:12px">Lookout</p></body></html>',
  ].join('\n');
  return { subject, text, html };
}
