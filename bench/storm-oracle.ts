// The storm benchmark's oracle: what the chat should have told (Lookout's rules replayed over what each
// target server saw) against what it did tell (storm-chat.ts), per target.
import type { TargetRequest } from './flip-server.js';
import type { ChatEvent, ChatStory } from './storm-chat.js';

/** One confirmed outage: its first failed request, the request that confirmed it, the one that ended it. */
export interface Episode {
  firstFailAt: number;
  downAt: number;
  upAt?: number;
}

/** A span in which Lookout may not have seen what a target answered (around a kill or a stop). */
export interface Blackout {
  from: number;
  to: number;
}

/** Lookout's thresholds (target options): failures in a row that make DOWN, successes that make UP. */
export interface Rules {
  confirm: number;
  recover: number;
}

/**
 * The outages Lookout's rules make of one target's requests, in order: `confirm` failures in a row
 * make it DOWN (from UNKNOWN or UP alike), `recover` successes in a row make it UP again. Restarts do
 * not reset what the target saw, so without blackouts this is what a perfect monitor would tell. With
 * blackouts it is the lenient reading: requests inside one are taken as never seen (their answer died
 * with the process), and a restart after one forgets failures or successes not yet confirmed (only
 * state changes are persisted before a stop).
 */
export function replayOutages(requests: readonly TargetRequest[], rules: Rules, blackouts: readonly Blackout[] = []): Episode[] {
  const episodes: Episode[] = [];
  let open: Episode | undefined;
  let failures = 0;
  let successes = 0;
  let firstFailAt = 0;
  let next = 0;
  for (const { at, ok } of requests) {
    while (next < blackouts.length && at > blackouts[next]!.to) {
      failures = 0;
      successes = 0;
      next += 1;
    }
    if (next < blackouts.length && at >= blackouts[next]!.from) continue;
    if (!ok) {
      successes = 0;
      if (failures === 0) firstFailAt = at;
      failures += 1;
      if (open === undefined && failures >= rules.confirm) {
        open = { firstFailAt, downAt: at };
        episodes.push(open);
      }
    } else {
      failures = 0;
      if (open === undefined) continue;
      successes += 1;
      if (successes >= rules.recover) {
        open.upAt = at;
        open = undefined;
        successes = 0;
      }
    }
  }
  return episodes;
}

interface Expected {
  kind: 'DOWN' | 'UP';
  at: number;
  episode: number;
}

/**
 * Pairs told events of one kind with expected ones of that kind, in order (a longest common
 * subsequence): a told DOWN can stand for an outage confirmed no later than it was sent, a told UP for a
 * recovery seen no later than it was sent. Among the pairings with the most pairs, the one with the
 * least total delay wins. Returns, for each expected and each told event, the index of its partner or -1.
 */
export function alignEvents(expected: readonly Expected[], told: readonly ChatEvent[], toleranceMs = 50): { expectedTo: number[]; toldTo: number[] } {
  const n = expected.length;
  const m = told.length;
  // Score = pairs × BIG − total delay (ms): more pairs always beat less delay.
  const BIG = 1e12;
  const score = new Float64Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => i * (m + 1) + j;
  const gain = (i: number, j: number): number | undefined => {
    const e = expected[i - 1]!;
    const t = told[j - 1]!;
    return e.kind === t.kind && t.at >= e.at - toleranceMs ? BIG - Math.max(0, t.at - e.at) : undefined;
  };
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const g = gain(i, j);
      score[at(i, j)] = Math.max(score[at(i - 1, j)]!, score[at(i, j - 1)]!, g === undefined ? -Infinity : score[at(i - 1, j - 1)]! + g);
    }
  }
  const expectedTo = new Array<number>(n).fill(-1);
  const toldTo = new Array<number>(m).fill(-1);
  for (let i = n, j = m; i > 0 && j > 0; ) {
    const g = gain(i, j);
    if (g !== undefined && score[at(i, j)] === score[at(i - 1, j - 1)]! + g) {
      expectedTo[i - 1] = j - 1;
      toldTo[j - 1] = i - 1;
      i -= 1;
      j -= 1;
    } else if (score[at(i, j)] === score[at(i - 1, j)]) i -= 1;
    else j -= 1;
  }
  return { expectedTo, toldTo };
}

/** Which told event stands for each outage's DOWN and UP, and which outage each told event stands for (-1: none). */
interface Pairing {
  downOf: number[];
  upOf: number[];
  episodeOf: number[];
}

/**
 * DOWNs and UPs are paired separately, each kind in order, so that a resolution told late (after the
 * next outage's DOWN) still counts as told: the order is judged on its own, from the told sequence.
 */
function pairTold(episodes: readonly Episode[], told: readonly ChatEvent[]): Pairing {
  const pairing: Pairing = { downOf: episodes.map(() => -1), upOf: episodes.map(() => -1), episodeOf: told.map(() => -1) };
  for (const kind of ['DOWN', 'UP'] as const) {
    const expected: Expected[] = [];
    episodes.forEach((e, episode) => {
      const at = kind === 'DOWN' ? e.downAt : e.upAt;
      if (at !== undefined) expected.push({ kind, at, episode });
    });
    const indexes = told.flatMap((t, j) => (t.kind === kind ? [j] : []));
    const { toldTo } = alignEvents(expected, indexes.map((j) => told[j]!));
    toldTo.forEach((e, k) => {
      if (e === -1) return;
      const episode = expected[e]!.episode;
      const j = indexes[k]!;
      pairing.episodeOf[j] = episode;
      (kind === 'DOWN' ? pairing.downOf : pairing.upOf)[episode] = j;
    });
  }
  return pairing;
}

/** Kinds of notable sequences kept as examples for the report. */
export type ExampleKind = 'lost_outage' | 'up_lost' | 'up_late' | 'same_outage_twice' | 'up_without_down' | 'lost_final_resolution' | 'duplicate';

/** Everything the storm benchmark counts. */
export interface StormScore {
  expected_outages: number;
  expected_outages_lenient: number;
  told_down: number;
  told_up: number;
  /** Expected outages no told DOWN stands for (alignment); `_excused` of them the lenient replay does not have. */
  lost_outages: number;
  lost_outages_excused_by_kills: number;
  lost_outages_beyond_fuzz: number;
  /** Σ per target max(0, expected − told DOWNs) and max(0, told DOWNs − expected): the plain count comparison. */
  missing_by_count: number;
  extra_by_count: number;
  /** Recoveries of told outages that no told UP stands for. */
  lost_ups: number;
  /** Targets whose last told event is DOWN, though every target ended UP. */
  lost_final_resolutions: number;
  /** Alert messages whose final text still shows an open outage (Ack button, a 🔴 line, "are DOWN"). */
  open_alert_messages: number;
  open_alert_names: number;
  /**
   * DOWN after DOWN with no UP between, and UP with no DOWN before, per target. A DOWN after DOWN is the
   * same outage told twice, or two outages whose first UP was lost, or told late (after the second DOWN).
   */
  out_of_order_targets: number;
  out_of_order_events: number;
  down_after_down: number;
  down_after_down_same_outage: number;
  down_after_down_up_lost: number;
  down_after_down_up_late: number;
  up_without_down: number;
  /** Told events that stand for no expected one: repeats of one already told, or (spurious) before any such event happened. */
  duplicate_downs: number;
  duplicate_ups: number;
  spurious_downs: number;
  spurious_ups: number;
  duplicate_texts: number;
  /** A few of each kind, as `target: what happened` with times in seconds since `t0`. */
  examples: Record<ExampleKind, string[]>;
}

/** Scores one chat's story against the requests of every target (`names[i]` is target i). */
export function scoreStorm(input: {
  names: readonly string[];
  requests: readonly (readonly TargetRequest[])[];
  story: ChatStory;
  rules: Rules;
  blackouts: readonly Blackout[];
  finalMessages: ReadonlyArray<{ open: boolean; names: string[] }>;
  /** Time zero of the run: example times are given in seconds since it. */
  t0: number;
  maxExamples?: number;
}): StormScore {
  const { names, requests, story, rules, blackouts } = input;
  const maxExamples = input.maxExamples ?? 4;
  const sec = (at: number | undefined): string => (at === undefined ? '-' : `${((at - input.t0) / 1_000).toFixed(1)}s`);
  const s: StormScore = {
    expected_outages: 0,
    expected_outages_lenient: 0,
    told_down: 0,
    told_up: 0,
    lost_outages: 0,
    lost_outages_excused_by_kills: 0,
    lost_outages_beyond_fuzz: 0,
    missing_by_count: 0,
    extra_by_count: 0,
    lost_ups: 0,
    lost_final_resolutions: 0,
    open_alert_messages: 0,
    open_alert_names: 0,
    out_of_order_targets: 0,
    out_of_order_events: 0,
    down_after_down: 0,
    down_after_down_same_outage: 0,
    down_after_down_up_lost: 0,
    down_after_down_up_late: 0,
    up_without_down: 0,
    duplicate_downs: 0,
    duplicate_ups: 0,
    spurious_downs: 0,
    spurious_ups: 0,
    duplicate_texts: story.duplicateTexts.length,
    examples: { lost_outage: [], up_lost: [], up_late: [], same_outage_twice: [], up_without_down: [], lost_final_resolution: [], duplicate: [] },
  };
  const example = (kind: ExampleKind, target: string, what: string): void => {
    if (s.examples[kind].length < maxExamples) s.examples[kind].push(`${target}: ${what}`);
  };
  // What the chat told a target, compactly: `DOWN@12.3s UP@40.1s …`.
  const toldLine = (told: readonly ChatEvent[], from: number, to: number): string =>
    told.slice(Math.max(0, from), to).map((e) => `${e.kind}${e.soft ? '(soft)' : ''}@${sec(e.at)}`).join(' ');
  const seenLine = (episodes: readonly Episode[], from: number, to: number): string =>
    episodes.filter((e) => (e.upAt ?? Infinity) >= from && e.downAt <= to).map((e) => `DOWN@${sec(e.downAt)}..UP@${sec(e.upAt)}`).join(' ');
  names.forEach((name, index) => {
    const seen = requests[index] ?? [];
    const episodes = replayOutages(seen, rules);
    const lenient = replayOutages(seen, rules, blackouts);
    const told = story.events.get(name) ?? [];
    s.expected_outages += episodes.length;
    s.expected_outages_lenient += lenient.length;
    const downs = told.filter((e) => e.kind === 'DOWN').length;
    s.told_down += downs;
    s.told_up += told.length - downs;
    s.missing_by_count += Math.max(0, episodes.length - downs);
    s.extra_by_count += Math.max(0, downs - episodes.length);

    const { downOf, upOf, episodeOf } = pairTold(episodes, told);
    episodes.forEach((ep, episode) => {
      if (downOf[episode] !== -1) {
        // The UP of an outage never told is not news either: only resolutions of told outages count.
        if (ep.upAt !== undefined && upOf[episode] === -1) s.lost_ups += 1;
        return;
      }
      s.lost_outages += 1;
      // Excused: the lenient replay (answers around a kill unseen) confirms no outage in this run of failures.
      const excused = !lenient.some((l) => l.downAt >= ep.firstFailAt && (ep.upAt === undefined || l.downAt < ep.upAt));
      if (excused) s.lost_outages_excused_by_kills += 1;
      else example('lost_outage', name, `outage ${sec(ep.firstFailAt)} (confirmed ${sec(ep.downAt)}) .. ${sec(ep.upAt)} never told; chat around it: ${toldLine(told.filter((t) => Math.abs(t.at - ep.downAt) < 120_000), 0, 8)}`);
    });

    let open = false;
    let outOfOrder = 0;
    told.forEach((t, j) => {
      const previous = told[j - 1];
      if (episodeOf[j] === -1) {
        const happened = episodes.some((e) => {
          const at = t.kind === 'DOWN' ? e.downAt : e.upAt;
          return at !== undefined && at <= t.at;
        });
        if (happened) example('duplicate', name, `${t.kind}@${sec(t.at)} stands for nothing not told already; chat ${toldLine(told, j - 2, j + 2)}`);
        if (t.kind === 'DOWN') happened ? (s.duplicate_downs += 1) : (s.spurious_downs += 1);
        else happened ? (s.duplicate_ups += 1) : (s.spurious_ups += 1);
      }
      if (t.kind === 'DOWN') {
        if (open) {
          s.down_after_down += 1;
          outOfOrder += 1;
          const a = episodeOf[j - 1] ?? -1;
          const b = episodeOf[j] ?? -1;
          const upAt = a === -1 ? -1 : (upOf[a] ?? -1);
          const kind: ExampleKind = a === -1 || b === -1 || a === b ? 'same_outage_twice' : upAt === -1 ? 'up_lost' : 'up_late';
          if (kind === 'same_outage_twice') s.down_after_down_same_outage += 1;
          else if (kind === 'up_lost') s.down_after_down_up_lost += 1;
          else s.down_after_down_up_late += 1;
          example(kind, name, `chat ${toldLine(told, j - 2, Math.max(j + 2, upAt + 1))}; server ${seenLine(episodes, previous!.at - 60_000, t.at)}`);
        }
        open = true;
      } else {
        if (!open) {
          s.up_without_down += 1;
          outOfOrder += 1;
          example('up_without_down', name, `chat ${toldLine(told, j - 3, j + 1)}; server ${seenLine(episodes, t.at - 90_000, t.at)}`);
        }
        open = false;
      }
    });
    if (outOfOrder > 0) s.out_of_order_targets += 1;
    s.out_of_order_events += outOfOrder;
    if (told.at(-1)?.kind === 'DOWN') {
      s.lost_final_resolutions += 1;
      example('lost_final_resolution', name, `chat ends ${toldLine(told, told.length - 3, told.length)}; server ${seenLine(episodes, told.at(-1)!.at - 60_000, Infinity)}`);
    }
  });
  s.lost_outages_beyond_fuzz = s.lost_outages - s.lost_outages_excused_by_kills;
  for (const m of input.finalMessages) {
    if (!m.open) continue;
    s.open_alert_messages += 1;
    s.open_alert_names += m.names.length;
  }
  return s;
}
