import { Composer } from 'grammy';
import { formatTime } from '../../alerts/format.js';
import { formatDuration } from '../../domain/duration.js';
import { escapeHtml } from '../../lib/html.js';
import type { HealthReport } from '../../health/report.js';
import type { LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';

const ms = (v: number | undefined): string => (v === undefined ? '—' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);

const storeText = (h: HealthReport): string => {
  const s = h.store;
  if (!s.ok) {
    const since = s.since !== undefined ? ` since ${formatTime(s.since)}` : '';
    const waiting = `${s.pendingWrites} write${s.pendingWrites === 1 ? '' : 's'} waiting`;
    return `failing${since}: ${escapeHtml(s.cause ?? 'writes are refused')}; ${waiting}!`;
  }
  return h.storeMs === undefined ? 'not answering!' : `write+read ${ms(h.storeMs)}`;
};

const time = (at: number): string => new Date(at).toISOString().slice(11, 19);

/** The /health reply (`chatId`: whose destinations it lists). */
export function healthText(h: HealthReport, chatId?: number): string {
  const mine = (h.destinations ?? []).filter((d) => chatId === undefined || d.chatId === chatId);
  const sick = !h.store.ok || h.storeMs === undefined || h.overdue > 0 || h.outboxDepth > 20;
  return [
    `${sick ? '🟠' : '🩺'} <b>Lookout ${escapeHtml(h.version)}</b> · up ${formatDuration(h.uptimeMs)} · on ${escapeHtml(h.source)}`,
    `Targets: ${h.targets}${h.paused > 0 ? ` (${h.paused} paused)` : ''}`,
    `Checks: ${h.checksLastMinute} in the last minute · scheduling lateness p50 ${ms(h.latenessP50Ms)} · p95 ${ms(h.latenessP95Ms)} (5 min)`,
    `Overdue checks: ${h.overdue} · running now: ${h.running}`,
    `Store: ${storeText(h)}${h.historyWriteMs !== undefined ? ` · history rows ${ms(h.historyWriteMs)} each` : ''}`,
    `Outbox: ${h.outboxDepth} message${h.outboxDepth === 1 ? '' : 's'} waiting`,
    `Telegram API errors in the last hour: ${h.telegramErrorsLastHour}`,
    ...(h.cluster
      ? [
          `Instance: ${escapeHtml(h.cluster.instance)} in ${escapeHtml(h.cluster.location)} · ${h.cluster.role} for ${formatDuration(Math.max(0, Date.now() - h.cluster.roleSince))} · checks ${h.cluster.checking} targets`,
          `Peers: ${h.cluster.peers.map((p) => `${escapeHtml(p.id)} (${escapeHtml(p.location ?? '?')}, ${Math.round(p.seenAgoMs / 1_000)}s ago${p.pending > 0 ? `, ${p.pending} writes waiting` : ''})`).join(', ') || '—'}`,
        ]
      : []),
    ...(mine.length > 0
      ? [
          'Destinations:',
          ...mine.map(
            (d) =>
              `  ${d.paused ? '⏸' : d.lastErrorAt !== undefined && (d.lastOkAt ?? 0) < d.lastErrorAt ? '⚠️' : '✅'} ${escapeHtml(d.name)} (${escapeHtml(d.kind)}): ${d.lastOkAt !== undefined ? `last delivered ${time(d.lastOkAt)} UTC` : 'nothing delivered yet'}${d.lastErrorAt !== undefined ? ` · last error ${time(d.lastErrorAt)} UTC: ${escapeHtml((d.lastError ?? '').slice(0, 120))}` : ''}${d.depth > 0 ? ` · ${d.depth} waiting` : ''}`,
          ),
        ]
      : []),
  ].join('\n');
}

/** /health: how Lookout itself is doing, for everyone in an allowed chat. */
export function createHealth(deps: BotDeps): Composer<LookoutContext> {
  const health = new Composer<LookoutContext>();
  health.command('health', async (ctx) => {
    await ctx.reply(healthText(await deps.health(), ctx.chat.id), { parse_mode: 'HTML' });
  });
  return health;
}
