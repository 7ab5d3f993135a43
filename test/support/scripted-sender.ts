import type { MessageSender, SendOptions } from '../../src/alerts/channels/telegram/api.js';
import type { Button } from '../../src/alerts/channels/telegram/render.js';
import type { Clock } from '../../src/lib/clock.js';

/** A call the sender accepted: what was sent or edited, the message id, and the clock's time. */
export type SenderCall =
  | { op: 'send'; chatId: number; text: string; options: SendOptions; messageId: number; at: number }
  | { op: 'edit'; chatId: number; messageId: number; text: string; buttons: Button[][] | undefined; at: number };

/** Every call, accepted or not. */
export interface SenderAttempt {
  op: 'send' | 'edit';
  chatId: number;
  text: string;
  at: number;
}

/**
 * A MessageSender a test scripts: it records calls, answers with increasing message ids (101, 102, ...),
 * throws the errors queued with `failNext` (per chat), or a chat's error on every call while `failing`
 * has one, and waits while `hold` is in force.
 */
export class ScriptedSender implements MessageSender {
  readonly calls: SenderCall[] = [];
  readonly attempts: SenderAttempt[] = [];
  /** Chats whose every call throws the error this makes. */
  readonly failing = new Map<number, () => unknown>();
  private readonly scripted = new Map<number, unknown[]>();
  private nextMessageId = 100;
  private gate: Promise<void> | undefined;

  constructor(private readonly clock: Clock) {}

  /** The next calls to `chatId` throw these errors, one each, in order. */
  failNext(chatId: number, ...errors: unknown[]): void {
    this.scripted.set(chatId, [...(this.scripted.get(chatId) ?? []), ...errors]);
  }

  /** Calls wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** Successful calls of one chat. */
  callsOf(chatId: number): SenderCall[] {
    return this.calls.filter((c) => c.chatId === chatId);
  }

  async send(chatId: number, text: string, options: SendOptions): Promise<number> {
    await this.attempt('send', chatId, text);
    const messageId = ++this.nextMessageId;
    this.calls.push({ op: 'send', chatId, text, options, messageId, at: this.clock.now() });
    return messageId;
  }

  async edit(chatId: number, messageId: number, text: string, buttons?: Button[][]): Promise<void> {
    await this.attempt('edit', chatId, text);
    this.calls.push({ op: 'edit', chatId, messageId, text, buttons, at: this.clock.now() });
  }

  private async attempt(op: 'send' | 'edit', chatId: number, text: string): Promise<void> {
    if (this.gate) await this.gate;
    this.attempts.push({ op, chatId, text, at: this.clock.now() });
    const always = this.failing.get(chatId);
    if (always) throw always();
    const queued = this.scripted.get(chatId);
    if (queued && queued.length > 0) throw queued.shift();
  }
}
