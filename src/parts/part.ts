import type { Logger } from '../lib/logger.js';

// A part of the process with a lifecycle: it starts, stops, and may start again (leadership moves the
// chat and the alert side between instances at run time). main.ts makes the parts, and owns their order:
// started in the order given, stopped in the reverse.

/** One part: what it does at start and at stop. Start and stop never overlap; each is a no-op when done already. */
export interface Part {
  readonly name: string;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A part from its start and stop steps; calls are serialized, a second start (or stop) in a row does nothing. */
export function definePart(name: string, steps: { start(): Promise<void>; stop(): Promise<void> }, logger?: Logger): Part {
  let running = false;
  let chain: Promise<void> = Promise.resolve();
  const serial = (step: () => Promise<void>): Promise<void> => {
    const next = chain.then(step);
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    name,
    get running() {
      return running;
    },
    start: () =>
      serial(async () => {
        if (running) return;
        await steps.start();
        running = true;
        logger?.debug({ event: 'part_started', part: name }, `${name} started`);
      }),
    stop: () =>
      serial(async () => {
        if (!running) return;
        running = false;
        await steps.stop();
        logger?.debug({ event: 'part_stopped', part: name }, `${name} stopped`);
      }),
  };
}

/** A part with more to it (the chat's readiness, the server's port): `extra`'s getters stay getters. */
export function extendPart<T extends object>(part: Part, extra: T): Part & T {
  const out: Part = {
    get name() {
      return part.name;
    },
    get running() {
      return part.running;
    },
    start: () => part.start(),
    stop: () => part.stop(),
  };
  return Object.defineProperties(out, Object.getOwnPropertyDescriptors(extra)) as Part & T;
}

/** Starts the parts in order. */
export async function startParts(parts: readonly Part[]): Promise<void> {
  for (const part of parts) await part.start();
}

/** Stops the parts in the reverse order; a part that fails to stop is logged and the others still stop. */
export async function stopParts(parts: readonly Part[], logger?: Logger): Promise<void> {
  for (const part of [...parts].reverse()) {
    await part.stop().catch((err: unknown) => logger?.error({ err, event: 'part_stop_failed', part: part.name }, `${part.name} did not stop cleanly`));
  }
}
