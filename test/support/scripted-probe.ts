import type { CheckResult } from '../../src/domain/check.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { Probe } from '../../src/probes/probe.js';
import type { FakeClock } from './fake-clock.js';

/** An http probe the test scripts: which targets fail, whether checks hang until released, and what was checked when. */
export class ScriptedProbe implements Probe<HttpTarget> {
  readonly kind = 'http' as const;
  calls: Array<{ id: string; at: number }> = [];
  failing = new Set<string>();
  active = 0;
  peak = 0;
  hold = false;
  private waiting: Array<() => void> = [];
  constructor(
    private clock: FakeClock,
    private latencyMs = 5,
  ) {}

  async run(t: HttpTarget): Promise<CheckResult> {
    const at = this.clock.now();
    this.calls.push({ id: t.id, at });
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    if (this.hold) await new Promise<void>((r) => this.waiting.push(r));
    this.active--;
    return this.failing.has(t.id)
      ? { ok: false, at, latencyMs: this.latencyMs, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' }
      : { ok: true, at, latencyMs: this.latencyMs, status: 200 };
  }

  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }

  callsOf(id: string): number[] {
    return this.calls.filter((c) => c.id === id).map((c) => c.at);
  }
}
