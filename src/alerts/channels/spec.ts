import type { Parsed } from '../../domain/result.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { KeyvStore } from '../../store/keyv.js';
import type { Channel } from '../channel.js';
import type { EventClass } from '../routing.js';

/** A setting a channel kind reads from the environment (`SMTP_URL`, `SLACK_BOT_TOKEN`, ...). */
export interface ChannelSetting {
  name: string;
  /** For README's settings table and `.env.example`. */
  description: string;
  /** The value the kind uses when the setting is unset, when that is one fixed value (README shows it). */
  default?: string;
  /** README's default column when the default is not one fixed value (`lookout@<host name>`); else `default`, or empty. */
  shownDefault?: string;
  /** A secret: never logged, never shown. */
  secret?: boolean;
  /** Checks a value that is set; returns the error text, or undefined when it is fine. */
  check(value: string): string | undefined;
}

/** The environment settings of every channel kind, by name (only those that are set). */
export type ChannelEnv = Readonly<Record<string, string | undefined>>;

/** What a channel kind gets to work with. */
export interface ChannelContext {
  clock: Clock;
  logger?: Logger;
  /** For what a channel remembers of its deliveries (Slack's message ts, an e-mail's Message-ID). */
  store: KeyvStore;
  env: ChannelEnv;
  /** The parsed settings of a destination (as its kind's `parse` made them), if it still exists. */
  settings(destination: string): unknown;
  /** `ALLOW_METADATA_TARGETS`: whether connections to cloud metadata addresses are allowed. */
  allowMetadata: boolean;
}

/** An option a channel kind accepts at `/notify add` (besides the shared `events=` and `targets=`). */
export interface ChannelOption {
  key: string;
  help: string;
  /** Its value is a secret (masked in lists and exports; the message that carried it is deleted). */
  secret?: boolean;
}

/**
 * A channel kind: one folder under `alerts/channels/`, registered once in `kinds.ts`. It validates its
 * own settings when they are given (a bad address is refused at `/notify add`, not at the first alert),
 * shows them with secrets masked, writes them back for `/export`, and creates the channel that delivers.
 */
export interface ChannelSpec<S = unknown> {
  readonly kind: string;
  /** `/notify add slack NAME https://hooks.slack.com/services/…` */
  readonly usage: string;
  readonly options: readonly ChannelOption[];
  readonly env: readonly ChannelSetting[];
  /** What a new destination of this kind hears when `events=` is not given. */
  readonly defaultEvents: readonly EventClass[];
  /** Parses the address and the kind's options; errors name the key the user wrote and never echo a secret. */
  parse(address: string, options: ReadonlyMap<string, string>, env: ChannelEnv): Parsed<S>;
  /** The destination as people may see it (`hooks.slack.com/services/T0••••`). */
  describe(settings: S): string;
  /** The secret strings in the settings (kept out of logs; masked in exports). */
  secrets(settings: S): string[];
  /** Back to an address and options, as `/notify add` and the targets document take them. */
  format(settings: S): { address: string; options: Record<string, string> };
  create(ctx: ChannelContext): Channel;
}

/** `••••` in place of all but the first `keep` characters. */
export const mask = (secret: string, keep = 4): string => (secret.length <= keep + 4 ? '••••' : `${secret.slice(0, keep)}••••`);

/**
 * A kind as the list of kinds holds it. The list only hands each kind back the settings its own `parse`
 * made, so erasing the settings type here is safe (and a kind's code keeps its own type).
 */
export const listed = <S>(spec: ChannelSpec<S>): ChannelSpec => spec as unknown as ChannelSpec;
