import type { TargetCommon } from '../../domain/target.js';
import { defineKind, errorOf, withKey, type Draft, type OptionSpec } from '../kind.js';
import { runPing } from './run.js';
import { formatLoss, formatPingHost, parseCount, parseLoss, parsePingHost, PING_LIMITS } from './values.js';

/** A host checked with ICMP echo (the system's `ping`). */
export interface PingTarget extends TargetCommon {
  kind: 'ping';
  host: string;
  /** Echo requests per check. */
  count: number;
  /** Loss (%) at which the target is DOWN; UP while less is lost. */
  lossPct: number;
}

type PingDraft = Draft<PingTarget>;

const host: OptionSpec<PingDraft> = { apply: (d, v, ctx) => errorOf(parsePingHost(v, ctx.allowMetadata), (h) => (d.host = h)) };

/** The ping kind: UP while the share of echoes lost is under `loss=`; latency is the average round trip. */
export const pingKind = defineKind<PingTarget>({
  kind: 'ping',
  usage: '/add ping HOST [count=3] [loss=100%]',
  summary: 'ICMP echo with the system ping: UP while less than loss= of count= echoes is lost',
  dialogue: '<code>ping host</code>',
  optionsExample: '<code>name=edge count=5 loss=20%</code>',
  address: { key: 'host', missing: 'a ping target needs a host, like /add ping db.internal', apply: host.apply },
  options: {
    host,
    count: { apply: (d, v, { key }) => errorOf(withKey(parseCount(v), 'count', key), (n) => (d.count = n)) },
    loss: { apply: (d, v, { key }) => errorOf(withKey(parseLoss(v), 'loss', key), (n) => (d.lossPct = n)) },
  },
  finish: (d) => ({ host: d.host as string, count: d.count ?? PING_LIMITS.countDefault, lossPct: d.lossPct ?? PING_LIMITS.lossDefaultPct }),
  nameHost: (d) => d.host as string,
  show: (t) => `ping ${formatPingHost(t.host)}`,
  describe: (t) => `ping ${t.count} echo${t.count > 1 ? 'es' : ''}, DOWN at ${formatLoss(t.lossPct)} loss`,
  entry(t) {
    const entry: Record<string, string | number> = { host: formatPingHost(t.host) };
    if (t.count !== PING_LIMITS.countDefault) entry.count = t.count;
    if (t.lossPct !== PING_LIMITS.lossDefaultPct) entry.loss = formatLoss(t.lossPct);
    return entry;
  },
  trace: (t) => ({ host: t.host }),
  secrets: () => [],
  create: (runtime) => ({
    probe: {
      kind: 'ping',
      run: (t, ctx) =>
        runPing({ host: t.host, count: t.count, lossPct: t.lossPct, timeoutMs: t.timeoutMs }, ctx, {
          allowMetadata: runtime.allowMetadata,
          ...(runtime.lookup ? { lookup: runtime.lookup } : {}),
          ...(runtime.sourceAddress !== undefined ? { sourceAddress: runtime.sourceAddress } : {}),
        }),
    },
  }),
});
