import type { Button } from './format.js';

/** How a message is posted. */
export interface SendOptions {
  threadId?: number;
  buttons?: Button[][];
  /** Deliver quietly (`disable_notification`). */
  silent?: boolean;
  /** Reply to this message (when it still exists). */
  replyTo?: number;
}

/** The delivery channel the outbox writes to: Telegram, or the log in headless mode. */
export interface MessageSender {
  /** Sends a message and returns its id. */
  send(chatId: number, text: string, options: SendOptions): Promise<number>;
  /** Replaces a message's text and keyboard. */
  edit(chatId: number, messageId: number, text: string, buttons?: Button[][]): Promise<void>;
}

/**
 * Why a delivery failed and what to do about it: `retry` later (network, 5xx, 429 with its wait),
 * `done` (nothing left to do, e.g. the text was already current), or `drop` (it can never succeed:
 * the bot was removed from the chat, the message to edit is gone).
 */
export type DeliveryVerdict = { action: 'retry'; afterMs?: number } | { action: 'done' } | { action: 'drop'; why: string };

/** A sender's error turned into a verdict; each sender knows its own errors. */
export type ClassifyError = (err: unknown) => DeliveryVerdict;
