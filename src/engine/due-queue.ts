/** A min-heap of (key, due time) with O(log n) schedule and lazy removal of replaced entries. */
export class DueQueue {
  private heap: Array<{ key: string; at: number; seq: number }> = [];
  private current = new Map<string, number>();
  private seq = 0;

  /** Number of keys scheduled. */
  get size(): number {
    return this.current.size;
  }

  /** Schedules `key` at `at`, replacing an earlier schedule of the same key. */
  schedule(key: string, at: number): void {
    const seq = ++this.seq;
    this.current.set(key, seq);
    this.heap.push({ key, at, seq });
    this.up(this.heap.length - 1);
    // Replaced entries stay in the heap until they surface; rebuild when they dominate it.
    if (this.heap.length > 64 && this.heap.length > this.current.size * 4) this.compact();
  }

  /** Removes `key`; a no-op when it is not scheduled. */
  cancel(key: string): void {
    this.current.delete(key);
  }

  /** Whether `key` is scheduled. */
  has(key: string): boolean {
    return this.current.has(key);
  }

  /** How many keys are due before `t` (a scan: for health reports, not the hot path). */
  countDueBefore(t: number): number {
    let n = 0;
    for (const e of this.heap) if (e.at < t && this.current.get(e.key) === e.seq) n++;
    return n;
  }

  /** The earliest due time, or undefined when empty. */
  peekTime(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Removes and returns the earliest entry due at or before `now`. */
  popDue(now: number): { key: string; at: number } | undefined {
    this.dropStale();
    const top = this.heap[0];
    if (!top || top.at > now) return undefined;
    this.removeTop();
    this.current.delete(top.key);
    return { key: top.key, at: top.at };
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.current.get(top.key) === top.seq) return;
      this.removeTop();
    }
  }

  private removeTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => this.current.get(e.key) === e.seq);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.less(l, min)) min = l;
      if (r < n && this.less(r, min)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}
