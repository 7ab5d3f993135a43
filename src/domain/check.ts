/** Why a check failed, as a category: alerts, traces and reports group by it. */
export type FailureKind =
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'dns'
  | 'tls'
  | 'unreachable'
  | 'status'
  | 'keyword'
  | 'protocol'
  | 'error';

/** Failures at the network level: for these an alert gets a trace attached. */
export const NETWORK_FAILURES: ReadonlySet<FailureKind> = new Set(['timeout', 'refused', 'reset', 'dns', 'tls', 'unreachable']);

/** The outcome of one check of one target. Probes return it; they never throw for an expected failure. */
export interface CheckResult {
  ok: boolean;
  /** When the check started (epoch ms). */
  at: number;
  /** Time from start to the full answer (or to the failure). */
  latencyMs: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Failure category, set when `ok` is false. */
  failure?: FailureKind;
  /**
   * The failure in words, as alerts show it: `HTTP 503, expected 200-299`, `timeout after 10s`. On an UP
   * result, what answered (`3 of 3 replies`, `answer 192.0.2.1`), shown before the latency.
   */
  reason?: string;
  /** An UP result in words when its latency says nothing (a heartbeat: `last ping 5m ago`); shown instead. */
  summary?: string;
  /** Set on a failed check whose answer looks like planned maintenance (the target goes MAINTENANCE, not DOWN). */
  maintenance?: { reason: string; retryAfterS?: number };
  /** Facts seen on the way that can warn before things break. */
  observations?: Observations;
}

/** What a check noticed besides up or down. */
export interface Observations {
  /** When the peer's TLS certificate expires (epoch ms). */
  certExpiresAt?: number;
  /** When the JWT in the target's `Authorization: Bearer` header expires (epoch ms). */
  tokenExpiresAt?: number;
  /** The API's rate limit as its headers report it. */
  rateLimit?: { remaining: number; limit: number };
}
