import type { Tell } from '../../src/alerts/policy.js';
import type { Notification } from '../../src/domain/notification.js';

/** A call of `tell` kept from settling until the test says so (a crash, or a slow outbox write). */
export interface HeldTell {
  /** Resolves with the notification once the held call is made. */
  readonly reached: Promise<Notification>;
  /** Lets the call succeed: the notification counts as told. */
  release(): void;
  /** Lets the call fail with `error`. */
  fail(error?: Error): void;
}

/** A `tell` for the alert policy that records what it is told and fails or hangs when a test asks. */
export interface RecordingTell {
  readonly tell: Tell;
  /** Notifications whose `tell` succeeded, in order. */
  readonly told: Notification[];
  /** Every call, including those that failed or are held. */
  readonly attempts: Notification[];
  /** The next call for which `when` holds rejects with `error`. */
  failNext(when?: (n: Notification) => boolean, error?: Error): void;
  /** The next call for which `when` holds does not settle until the returned handle says so. */
  holdNext(when?: (n: Notification) => boolean): HeldTell;
}

type Plan = { when: (n: Notification) => boolean; run: (n: Notification) => Promise<void> };

/** A recording `tell`: succeeds at once unless a failure or a hold is planned for the call. */
export function recordingTell(): RecordingTell {
  const told: Notification[] = [];
  const attempts: Notification[] = [];
  const plans: Plan[] = [];
  const any = (): boolean => true;

  return {
    told,
    attempts,
    async tell(notification) {
      attempts.push(notification);
      const at = plans.findIndex((p) => p.when(notification));
      if (at >= 0) {
        const [plan] = plans.splice(at, 1);
        await plan!.run(notification);
      }
      told.push(notification);
    },
    failNext(when = any, error = new Error('outbox write failed')) {
      plans.push({ when, run: () => Promise.reject(error) });
    },
    holdNext(when = any) {
      let reach!: (n: Notification) => void;
      let release!: () => void;
      let fail!: (error: Error) => void;
      const reached = new Promise<Notification>((resolve) => (reach = resolve));
      const gate = new Promise<void>((resolve, reject) => {
        release = resolve;
        fail = reject;
      });
      // A held call nobody fails or releases stays pending; an unobserved rejection must not fail the run.
      gate.catch(() => undefined);
      plans.push({
        when,
        run: (n) => {
          reach(n);
          return gate;
        },
      });
      return { reached, release: () => release(), fail: (error = new Error('crashed')) => fail(error) };
    },
  };
}
