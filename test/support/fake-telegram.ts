import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { Chat, InlineKeyboardMarkup, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';

/** How a fake Telegram server identifies its bot; every field has a test default. */
export interface FakeTelegramOptions {
  token?: string;
  botUsername?: string;
  botId?: number;
  /**
   * Per method, how long the answer takes (ms). The call is recorded and applied at once (a message is
   * posted as soon as it arrives, as on a slow Telegram), only the answer waits.
   */
  answerDelayMs?: Record<string, number>;
}

/** A file part of a multipart upload: which payload field referenced it, its name and size (contents not kept). */
export interface RecordedUpload {
  field: string;
  filename: string;
  bytes: number;
  /** The uploaded bytes (a document the bot sent can be sent back by a user). */
  content: Buffer;
}

/** One Bot API call as the fake received it, in arrival order. */
export interface RecordedCall {
  method: string;
  /** JSON body, or the text fields of a multipart body (ids parsed to numbers, JSON fields parsed). */
  payload: Record<string, unknown>;
  /** `Date.now()` on arrival. */
  at: number;
  /** Raw request body size in bytes. */
  bodyBytes: number;
  /** Files of a multipart upload; absent for JSON calls. */
  files?: RecordedUpload[];
  /** Set when the call was answered with `ok: false` (injected failure, outage, or a Bot API error). */
  failed?: true;
  error?: { code: number; description: string };
  /** The `result` of an `ok: true` answer (the posted message of a sendMessage). */
  result?: unknown;
  /** `Date.now()` when the answer was written; absent while it is delayed or when the client was gone. */
  answeredAt?: number;
  /** Set when the client had closed the connection before its (delayed) answer was due. */
  abandoned?: true;
  /** A getUpdates that never reached "Telegram" (`loseConfirmations`): not applied, never answered. */
  lost?: true;
}

/** Chat member statuses `setMember` accepts, as `getChatMember` reports them. */
export type ChatMemberStatus = 'creator' | 'administrator' | 'member' | 'left' | 'kicked' | 'restricted';

/** Chat types a simulated user can write from. */
export type UserChatType = 'private' | 'group' | 'supergroup';

/** A user writing a text message; `/`-prefixed text gets a `bot_command` entity. */
export interface SendTextInput {
  chatId: number;
  userId: number;
  text: string;
  chatType?: UserChatType;
  threadId?: number;
  username?: string;
  firstName?: string;
  /** More entities after the leading bot_command (text mentions, say). */
  entities?: MessageEntity[];
}

/** A user pressing an inline button under message `messageId`. */
export interface PressButtonInput {
  chatId: number;
  userId: number;
  data: string;
  messageId: number;
  threadId?: number;
}

/** A user sending a document (metadata only). */
export interface SendDocumentInput {
  chatId: number;
  userId: number;
  fileName: string;
  mimeType?: string;
  fileSize?: number;
  /** The file's bytes, served by getFile and /file/bot<token>/<path>. */
  content?: string | Buffer;
  caption?: string;
  chatType?: UserChatType;
  threadId?: number;
  username?: string;
  firstName?: string;
}

/** An update to queue; `update_id` is assigned when missing. */
export type UpdateInput = Omit<Update, 'update_id'> & { update_id?: number };

/** Error the next calls of a method answer with; a 429 carries `retry_after`. */
export interface FailureOptions {
  count?: number;
  status?: number;
  description?: string;
  retryAfter?: number;
}

/** A running fake Bot API server plus the controls and records a test needs. */
export interface FakeTelegram {
  /** Pass as `new Bot(token, { client: { apiRoot } })`. */
  readonly apiRoot: string;
  readonly token: string;
  /** What `getMe` returns; can also be passed as `botInfo` to skip `bot.init()`. */
  readonly botInfo: UserFromGetMe;
  /** Every call since start or the last `clearCalls()`. */
  readonly calls: readonly RecordedCall[];
  /** Calls of one method, in arrival order. */
  callsOf(method: string): RecordedCall[];
  clearCalls(): void;
  /** Resolves with the first matching call, recorded already or later; rejects after `timeoutMs` listing what was seen. */
  waitFor(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Resolves with the first `n` calls of `method` once there are that many. */
  waitForCount(method: string, n: number, timeoutMs?: number): Promise<RecordedCall[]>;
  /** Queues an update (kept until a getUpdates offset confirms it) and wakes a held poll. */
  pushUpdate(update: UpdateInput): Update;
  /** Pushes a user's text message (per-chat message ids shared with the bot's messages). */
  sendText(input: SendTextInput): Update;
  /** Pushes a callback query carrying the stored message `messageId`, or a minimal one if unknown. */
  pressButton(input: PressButtonInput): Update;
  /** Pushes a user's document message (with `content`, the bot can download it). */
  sendDocument(input: SendDocumentInput): Update;
  /** Paths of the file downloads the bot made, in order. */
  readonly downloads: readonly string[];
  /** Updates queued and not yet confirmed by an offset. */
  pendingUpdates(): Update[];
  /** Messages the bot sent to `chatId` and has not deleted, as they are now (after edits), by message id. */
  messages(chatId: number): Message[];
  /** What getChatMember reports for this user in this chat (default 'member'). */
  setMember(chatId: number, userId: number, status: ChatMemberStatus): void;
  /** The next `count` calls of `method` fail (default one 500); queued after earlier failNext calls. */
  failNext(method: string, failure?: FailureOptions): void;
  /**
   * Delivers the pending updates the way Telegram does in webhook mode: each is POSTed as JSON to the
   * registered webhook's path on `origin` (the real URL's host is not reachable from tests), with the
   * registered secret in `X-Telegram-Bot-Api-Secret-Token` unless `secret` overrides it. Updates
   * answered 2xx are confirmed (removed); the others stay pending, as Telegram would retry them.
   * Returns the status of each POST.
   */
  deliverWebhook(origin: string, options?: { secret?: string | null }): Promise<number[]>;
  /** From now on the answers of `method` wait `ms` (0: at once); the call itself is applied at arrival. */
  setAnswerDelay(method: string, ms: number): void;
  /** While down every method (getUpdates too unless `includeGetUpdates: false`) answers 502. */
  setDown(down: boolean, options?: { includeGetUpdates?: boolean }): void;
  /**
   * While on, a getUpdates whose offset would confirm a pending update is lost: recorded (`lost`), not
   * applied (the updates stay pending, no held poll is ended) and never answered, as if the instance that
   * sent it had been killed between handling those updates and its next poll reaching Telegram.
   */
  loseConfirmations(lose: boolean): void;
  /** Answers held polls with `[]`, stops listening and destroys every socket; safe to call twice. */
  close(): Promise<void>;
}

interface ApiAnswer {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

interface ChatState {
  chat: Chat;
  lastMessageId: number;
  messages: Map<number, Message>;
  members: Map<number, ChatMemberStatus>;
}

interface HeldPoll {
  res: ServerResponse;
  call: RecordedCall;
  limit: number;
  timer: ReturnType<typeof setTimeout>;
}

interface CallWaiter {
  check(): boolean;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Handler = (payload: Record<string, unknown>, call: RecordedCall) => ApiAnswer;

const DEFAULT_TOKEN = '123456789:TEST-token_abcdefghijklmnopqrstuvwxyz012';
const MAX_TEXT_LENGTH = 4096;
const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
// Multipart bodies carry every field as text; these are parsed back so payloads look the same as JSON ones.
const JSON_FIELDS = new Set(['reply_markup', 'reply_parameters', 'entities', 'caption_entities', 'link_preview_options', 'media', 'allowed_updates', 'commands', 'scope']);
const INTEGER_FIELDS = new Set(['chat_id', 'message_id', 'message_thread_id', 'reply_to_message_id', 'user_id', 'offset', 'limit', 'timeout']);
const BOOLEAN_FIELD = /^(disable_|allow_|protect_content$|drop_pending_updates$|show_alert$|has_spoiler$|show_caption_above_media$)/;
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

const ok = (result: unknown): ApiAnswer => ({ ok: true, result });
const fail = (code: number, description: string, parameters?: ApiAnswer['parameters']): ApiAnswer =>
  parameters === undefined ? { ok: false, error_code: code, description } : { ok: false, error_code: code, description, parameters };
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const idFromToken = (token: string): number => {
  const id = Number(token.split(':')[0]);
  return Number.isSafeInteger(id) && id > 0 ? id : 123456789;
};
const clone = <T>(value: T): T => structuredClone(value);

/** Starts a fake Telegram Bot API server on a free port of 127.0.0.1. */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? DEFAULT_TOKEN;
  const botInfo: UserFromGetMe = {
    id: options.botId ?? idFromToken(token),
    is_bot: true,
    first_name: 'Lookout',
    username: options.botUsername ?? 'lookout_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
  const botUser: User = { id: botInfo.id, is_bot: true, first_name: botInfo.first_name, username: botInfo.username };

  const calls: RecordedCall[] = [];
  const callWaiters = new Set<CallWaiter>();
  const chats = new Map<number, ChatState>();
  const users = new Map<number, User>();
  const callbackQueryIds = new Set<string>();
  const commands = new Map<string, unknown>();
  const failures = new Map<string, Array<{ remaining: number; answer: ApiAnswer }>>();
  let queue: Update[] = [];
  let nextUpdateId = 1;
  let nextCallbackId = 1;
  let nextFileId = 1;
  /** Contents of files users sent, by file_id. */
  const fileContents = new Map<string, Buffer>();
  const downloads: string[] = [];
  let heldPoll: HeldPoll | undefined;
  let webhookUrl = '';
  let webhookSecret: string | undefined;
  let down: { includeGetUpdates: boolean } | undefined;
  let losingConfirmations = false;
  let closing: Promise<void> | undefined;
  const answerDelays = new Map<string, number>(Object.entries(options.answerDelayMs ?? {}));
  const delayedAnswers = new Set<ReturnType<typeof setTimeout>>();

  const defaultChatType = (chatId: number): UserChatType =>
    chatId > 0 ? 'private' : chatId <= -1_000_000_000_000 ? 'supergroup' : 'group';

  const buildChat = (chatId: number, type: UserChatType, forum: boolean): Chat => {
    if (type === 'private') {
      const user = users.get(chatId);
      return user?.username === undefined
        ? { id: chatId, type, first_name: user?.first_name ?? 'Tester' }
        : { id: chatId, type, first_name: user.first_name, username: user.username };
    }
    if (type === 'group') return { id: chatId, type, title: `Test group ${chatId}` };
    return forum ? { id: chatId, type, title: `Test group ${chatId}`, is_forum: true } : { id: chatId, type, title: `Test group ${chatId}` };
  };

  const chatState = (chatId: number, type?: UserChatType, forum = false): ChatState => {
    let state = chats.get(chatId);
    if (state === undefined) {
      state = { chat: buildChat(chatId, type ?? defaultChatType(chatId), forum), lastMessageId: 0, messages: new Map(), members: new Map() };
      chats.set(chatId, state);
    } else if ((type !== undefined && type !== state.chat.type) || (forum && state.chat.is_forum !== true)) {
      state.chat = buildChat(chatId, type ?? (state.chat.type as UserChatType), forum || state.chat.is_forum === true);
    }
    return state;
  };

  const storeMessage = (message: Message): void => {
    let state = chats.get(message.chat.id);
    if (state === undefined) {
      state = { chat: clone(message.chat), lastMessageId: 0, messages: new Map(), members: new Map() };
      chats.set(message.chat.id, state);
    }
    state.messages.set(message.message_id, clone(message));
    state.lastMessageId = Math.max(state.lastMessageId, message.message_id);
  };

  const rememberUser = (userId: number, firstName?: string, username?: string): User => {
    const known = users.get(userId);
    const user: User = { id: userId, is_bot: false, first_name: firstName ?? known?.first_name ?? 'Tester' };
    const name = username ?? known?.username;
    if (name !== undefined) user.username = name;
    users.set(userId, user);
    return user;
  };


  const summary = (): string => {
    const counts = new Map<string, number>();
    for (const call of calls) counts.set(call.method, (counts.get(call.method) ?? 0) + 1);
    return counts.size === 0 ? '(none)' : [...counts].map(([method, n]) => `${method} x${n}`).join(', ');
  };

  const wakeWaiters = (): void => {
    for (const waiter of [...callWaiters]) {
      if (waiter.check()) {
        clearTimeout(waiter.timer);
        callWaiters.delete(waiter);
      }
    }
  };

  const waitUntil = <T>(find: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> => {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    const promise = new Promise<T>((resolve, reject) => {
      const waiter: CallWaiter = {
        check: () => {
          const value = find();
          if (value === undefined) return false;
          resolve(value);
          return true;
        },
        reject,
        timer: setTimeout(() => {
          callWaiters.delete(waiter);
          reject(new Error(`fake-telegram: ${what()} within ${timeoutMs} ms; calls seen: ${summary()}`));
        }, timeoutMs),
      };
      callWaiters.add(waiter);
    });
    // A waiter nobody awaits (a test that failed earlier) must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    return promise;
  };


  const confirmUpTo = (offset: number): void => {
    if (offset > 0) queue = queue.filter((update) => update.update_id >= offset);
    else if (offset < 0) queue = queue.slice(offset);
  };

  const answerPoll = (poll: HeldPoll, answer: ApiAnswer): void => {
    clearTimeout(poll.timer);
    if (heldPoll === poll) heldPoll = undefined;
    respond(poll.res, poll.call, answer);
  };

  const wakePoll = (): void => {
    if (heldPoll !== undefined && queue.length > 0) answerPoll(heldPoll, ok(clone(queue.slice(0, heldPoll.limit))));
  };

  const getUpdates = (payload: Record<string, unknown>, call: RecordedCall, res: ServerResponse): void => {
    const offset = Number(payload.offset ?? 0);
    if (losingConfirmations && offset > 0 && queue.some((update) => update.update_id < offset)) {
      call.lost = true;
      return;
    }
    if (webhookUrl !== '') {
      respond(res, call, fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"));
      return;
    }
    // Like Telegram, a new poll ends the one still held (the bot aborted it, or a second instance is polling).
    if (heldPoll !== undefined) {
      answerPoll(heldPoll, fail(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'));
    }
    confirmUpTo(offset);
    const limit = Math.min(100, Math.max(1, Number(payload.limit ?? 100)));
    const timeoutSeconds = Math.max(0, Number(payload.timeout ?? 0));
    if (queue.length > 0 || timeoutSeconds === 0 || closing !== undefined) {
      respond(res, call, ok(clone(queue.slice(0, limit))));
      return;
    }
    const poll: HeldPoll = {
      res,
      call,
      limit,
      timer: setTimeout(() => answerPoll(poll, ok([])), timeoutSeconds * 1000),
    };
    heldPoll = poll;
    res.once('close', () => {
      clearTimeout(poll.timer);
      if (heldPoll === poll) heldPoll = undefined;
    });
  };

  const pushUpdate = (input: UpdateInput): Update => {
    const update = clone({ ...input, update_id: input.update_id ?? nextUpdateId }) as Update;
    nextUpdateId = Math.max(nextUpdateId, update.update_id + 1);
    for (const message of [update.message, update.edited_message, update.channel_post, update.edited_channel_post]) {
      if (message === undefined) continue;
      storeMessage(message);
      if (message.from !== undefined && !message.from.is_bot && !users.has(message.from.id)) users.set(message.from.id, message.from);
    }
    if (update.callback_query !== undefined) callbackQueryIds.add(update.callback_query.id);
    queue.push(update);
    queue.sort((a, b) => a.update_id - b.update_id);
    wakePoll();
    return clone(update);
  };


  const resolveChat = (payload: Record<string, unknown>): ChatState | ApiAnswer => {
    const raw = payload.chat_id;
    if (raw === undefined || raw === '') return fail(400, 'Bad Request: chat_id is empty');
    const chatId = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(chatId)) return fail(400, 'Bad Request: chat not found');
    return chatState(chatId);
  };

  const findMessage = (payload: Record<string, unknown>, notFound: string): { state: ChatState; message: Message } | ApiAnswer => {
    const state = resolveChat(payload);
    if (!('chat' in state)) return state;
    const message = state.messages.get(Number(payload.message_id));
    return message === undefined ? fail(400, notFound) : { state, message };
  };

  const inlineMarkup = (markup: unknown): InlineKeyboardMarkup | undefined => {
    if (typeof markup !== 'object' || markup === null || !('inline_keyboard' in markup)) return undefined;
    const keyboard = (markup as InlineKeyboardMarkup).inline_keyboard;
    return Array.isArray(keyboard) && keyboard.length > 0 ? clone(markup as InlineKeyboardMarkup) : undefined;
  };

  const newBotMessage = (state: ChatState, payload: Record<string, unknown>, content: Record<string, unknown>): ApiAnswer => {
    const reply = payload.reply_parameters as { message_id?: number; allow_sending_without_reply?: boolean } | undefined;
    const replyId = reply?.message_id ?? (payload.reply_to_message_id as number | undefined);
    const message: Record<string, unknown> = {
      message_id: state.lastMessageId + 1,
      from: botUser,
      chat: state.chat,
      date: nowSeconds(),
      ...content,
    };
    if (payload.message_thread_id !== undefined) {
      message.message_thread_id = Number(payload.message_thread_id);
      message.is_topic_message = true;
    }
    if (replyId !== undefined) {
      const target = state.messages.get(Number(replyId));
      if (target !== undefined) {
        const { reply_to_message: _nested, ...replied } = target;
        message.reply_to_message = replied;
      } else if (reply?.allow_sending_without_reply !== true && payload.allow_sending_without_reply !== true) {
        return fail(400, 'Bad Request: message to be replied not found');
      }
    }
    const markup = inlineMarkup(payload.reply_markup);
    if (markup !== undefined) message.reply_markup = markup;
    storeMessage(message as unknown as Message);
    return ok(clone(message));
  };

  const checkText = (text: unknown, tooLong: string): ApiAnswer | undefined => {
    if (typeof text !== 'string' || text.trim() === '') return fail(400, 'Bad Request: message text is empty');
    if (text.length > MAX_TEXT_LENGTH) return fail(400, tooLong);
    return undefined;
  };

  const sendMessage: Handler = (payload) => {
    const state = resolveChat(payload);
    if (!('chat' in state)) return state;
    const invalid = checkText(payload.text, 'Bad Request: message is too long');
    if (invalid !== undefined) return invalid;
    const content: Record<string, unknown> = { text: payload.text };
    if (Array.isArray(payload.entities)) content.entities = payload.entities;
    // Like Telegram, HTML mode yields the entities of mentions (the ones that notify people).
    else if (payload.parse_mode === 'HTML') {
      const mentions = mentionEntities(String(payload.text));
      if (mentions.length > 0) content.entities = mentions;
    }
    return newBotMessage(state, payload, content);
  };

  const uploadOf = (call: RecordedCall, field: string): RecordedUpload | undefined => call.files?.find((file) => file.field === field);

  const sendFile = (field: 'document' | 'photo'): Handler => (payload, call) => {
    const state = resolveChat(payload);
    if (!('chat' in state)) return state;
    if (payload[field] === undefined || payload[field] === '') return fail(400, `Bad Request: there is no ${field} in the request`);
    const upload = uploadOf(call, field);
    const id = nextFileId++;
    const file = { file_id: `${field}-${id}`, file_unique_id: `u${field}${id}`, file_size: upload?.bytes ?? 0 };
    if (upload) fileContents.set(file.file_id, upload.content);
    const content: Record<string, unknown> =
      field === 'document' ? { document: { ...file, file_name: upload?.filename ?? 'document' } } : { photo: [{ ...file, width: 90, height: 90 }] };
    if (typeof payload.caption === 'string') content.caption = payload.caption;
    return newBotMessage(state, payload, content);
  };

  const editMessage = (payload: Record<string, unknown>, changes: Record<string, unknown>, keepsText: boolean): ApiAnswer => {
    if (payload.inline_message_id !== undefined) return ok(true);
    const found = findMessage(payload, 'Bad Request: message to edit not found');
    if (!('state' in found)) return found;
    const { state, message } = found;
    if (message.from?.id !== botInfo.id) return fail(400, "Bad Request: message can't be edited");
    if (!keepsText && message.text === undefined) return fail(400, 'Bad Request: there is no text in the message to edit');
    const markup = inlineMarkup(payload.reply_markup);
    const sameText = keepsText || message.text === changes.text;
    if (sameText && isDeepStrictEqual(message.reply_markup, markup)) return fail(400, NOT_MODIFIED);
    const edited: Record<string, unknown> = { ...message, ...changes, edit_date: nowSeconds() };
    if (!keepsText && changes.entities === undefined) delete edited.entities;
    if (markup === undefined) delete edited.reply_markup;
    else edited.reply_markup = markup;
    state.messages.set(message.message_id, edited as unknown as Message);
    return ok(clone(edited));
  };

  const editMessageText: Handler = (payload) => {
    const invalid = checkText(payload.text, 'Bad Request: MESSAGE_TOO_LONG');
    if (invalid !== undefined) return invalid;
    const changes: Record<string, unknown> = { text: payload.text };
    if (Array.isArray(payload.entities)) changes.entities = payload.entities;
    return editMessage(payload, changes, false);
  };

  const chatMember = (state: ChatState, userId: number): Record<string, unknown> => {
    const status = state.members.get(userId) ?? 'member';
    const user = userId === botInfo.id ? botUser : (users.get(userId) ?? { id: userId, is_bot: false, first_name: 'Tester' });
    const member: Record<string, unknown> = { status, user };
    if (status === 'creator') member.is_anonymous = false;
    if (status === 'administrator') {
      Object.assign(member, {
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: true,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_pin_messages: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
      });
    }
    if (status === 'restricted') Object.assign(member, { is_member: true, can_send_messages: false, until_date: 0 });
    if (status === 'kicked') member.until_date = 0;
    return member;
  };

  const withChat = (run: (state: ChatState, payload: Record<string, unknown>) => ApiAnswer): Handler => (payload) => {
    const state = resolveChat(payload);
    return 'chat' in state ? run(state, payload) : state;
  };

  const commandsKey = (payload: Record<string, unknown>): string =>
    JSON.stringify([payload.scope ?? { type: 'default' }, payload.language_code ?? '']);

  const handlers: Record<string, Handler> = {
    getMe: () => ok(clone(botInfo)),
    logOut: () => ok(true),
    close: () => ok(true),
    deleteWebhook: (payload) => {
      webhookUrl = '';
      if (payload.drop_pending_updates === true) queue = [];
      return ok(true);
    },
    setWebhook: (payload) => {
      webhookUrl = String(payload.url ?? '');
      webhookSecret = typeof payload.secret_token === 'string' ? payload.secret_token : undefined;
      return ok(true);
    },
    getFile: (payload) => {
      const id = String(payload.file_id ?? '');
      const content = fileContents.get(id);
      if (content === undefined) return fail(400, 'Bad Request: invalid file_id');
      return ok({ file_id: id, file_unique_id: `u${id}`, file_size: content.length, file_path: `documents/${id}` });
    },
    getWebhookInfo: () => ok({ url: webhookUrl, has_custom_certificate: false, pending_update_count: queue.length }),
    sendMessage,
    sendDocument: sendFile('document'),
    sendPhoto: sendFile('photo'),
    editMessageText,
    editMessageReplyMarkup: (payload) => editMessage(payload, {}, true),
    deleteMessage: (payload) => {
      const found = findMessage(payload, 'Bad Request: message to delete not found');
      if (!('state' in found)) return found;
      found.state.messages.delete(found.message.message_id);
      return ok(true);
    },
    answerCallbackQuery: (payload) =>
      callbackQueryIds.has(String(payload.callback_query_id))
        ? ok(true)
        : fail(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid'),
    sendChatAction: withChat(() => ok(true)),
    pinChatMessage: withChat(() => ok(true)),
    unpinChatMessage: withChat(() => ok(true)),
    unpinAllChatMessages: withChat(() => ok(true)),
    setMyCommands: (payload) => {
      const list = Array.isArray(payload.commands) ? (payload.commands as Array<{ command?: unknown }>) : [];
      if (list.some((entry) => typeof entry.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(entry.command))) {
        return fail(400, 'Bad Request: BOT_COMMAND_INVALID');
      }
      commands.set(commandsKey(payload), clone(list));
      return ok(true);
    },
    getMyCommands: (payload) => ok(clone(commands.get(commandsKey(payload)) ?? [])),
    deleteMyCommands: (payload) => {
      commands.delete(commandsKey(payload));
      return ok(true);
    },
    getChat: withChat((state) =>
      ok({
        ...clone(state.chat),
        accent_color_id: 0,
        max_reaction_count: 11,
        accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false },
      }),
    ),
    getChatMember: withChat((state, payload) => ok(chatMember(state, Number(payload.user_id)))),
    getChatAdministrators: withChat((state) =>
      ok([...state.members].filter(([, status]) => status === 'creator' || status === 'administrator').map(([userId]) => chatMember(state, userId))),
    ),
  };


  const respond = (res: ServerResponse, call: RecordedCall | undefined, answer: ApiAnswer): void => {
    // A poll the client already aborted never sees this answer, so it does not count as a failure.
    if (res.writableEnded || res.destroyed) {
      if (call !== undefined && call.method !== 'getUpdates') call.abandoned = true;
      return;
    }
    if (call !== undefined && !answer.ok) {
      call.failed = true;
      call.error = { code: answer.error_code ?? 500, description: answer.description ?? '' };
    }
    if (call !== undefined) {
      if (answer.ok && answer.result !== undefined) call.result = answer.result;
      call.answeredAt = Date.now();
    }
    const body = JSON.stringify(answer);
    res.writeHead(answer.ok ? 200 : (answer.error_code ?? 500), {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const answerLater = (res: ServerResponse, call: RecordedCall, answer: ApiAnswer, delayMs: number): void => {
    // Applied already: the result is known even when the client gives up before the answer.
    if (answer.ok && answer.result !== undefined) call.result = answer.result;
    if (delayMs <= 0) {
      respond(res, call, answer);
      return;
    }
    const timer = setTimeout(() => {
      delayedAnswers.delete(timer);
      respond(res, call, answer);
    }, delayMs);
    delayedAnswers.add(timer);
  };

  const injectedFailure = (method: string): ApiAnswer | undefined => {
    if (down !== undefined && (method !== 'getUpdates' || down.includeGetUpdates)) return fail(502, 'Bad Gateway');
    const pending = failures.get(method);
    const next = pending?.[0];
    if (pending === undefined || next === undefined) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) pending.shift();
    return next.answer;
  };

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const download = /^\/file\/bot([^/]+)\/documents\/(.+)$/.exec(url.pathname);
    if (download !== null) {
      const content = download[1] === token ? fileContents.get(decodeURIComponent(download[2] ?? '')) : undefined;
      downloads.push(url.pathname);
      if (content === undefined) res.writeHead(404).end('Not Found');
      else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length }).end(content);
      return;
    }
    const route = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z]+)$/.exec(url.pathname);
    if (route === null) {
      respond(res, undefined, fail(404, 'Not Found'));
      return;
    }
    const method = route[2] ?? '';
    let parsed: ParsedBody;
    try {
      parsed = parseBody(body, req.headers['content-type'] ?? '');
    } catch {
      respond(res, undefined, fail(400, 'Bad Request: invalid JSON'));
      return;
    }
    for (const [key, value] of url.searchParams) parsed.payload[key] ??= coerceField(key, value);
    const call: RecordedCall = { method, payload: parsed.payload, at: Date.now(), bodyBytes: body.length };
    if (parsed.files !== undefined) call.files = parsed.files;
    calls.push(call);

    if (route[1] !== token) respond(res, call, fail(401, 'Unauthorized'));
    else {
      const failure = injectedFailure(method);
      const handler = handlers[method];
      if (failure !== undefined) respond(res, call, failure);
      else if (method === 'getUpdates') getUpdates(parsed.payload, call, res);
      else if (handler === undefined) respond(res, call, fail(404, 'Not Found: method not found'));
      else answerLater(res, call, handler(parsed.payload, call), answerDelays.get(method) ?? 0);
    }
    wakeWaiters();
  };

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      respond(res, undefined, fail(500, `Internal Server Error: fake-telegram ${String(error)}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;


  const userMessage = (
    input: { chatId: number; userId: number; chatType?: UserChatType; threadId?: number; username?: string; firstName?: string },
    content: Record<string, unknown>,
  ): Update => {
    const from = rememberUser(input.userId, input.firstName, input.username);
    const state = chatState(input.chatId, input.chatType, input.threadId !== undefined);
    const message: Record<string, unknown> = { message_id: state.lastMessageId + 1, from, chat: state.chat, date: nowSeconds(), ...content };
    if (input.threadId !== undefined) {
      message.message_thread_id = input.threadId;
      message.is_topic_message = true;
    }
    return pushUpdate({ message: message as unknown as Update['message'] });
  };

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    botInfo,
    calls,
    callsOf: (method) => calls.filter((call) => call.method === method),
    clearCalls: () => {
      calls.length = 0;
    },
    waitFor: (method, predicate, timeoutMs = 5000) =>
      waitUntil(
        () => calls.find((call) => call.method === method && (predicate === undefined || predicate(call))),
        timeoutMs,
        () => `no ${method} call${predicate === undefined ? '' : ' matching the predicate'}`,
      ),
    waitForCount: (method, n, timeoutMs = 5000) =>
      waitUntil(
        () => {
          const matching = calls.filter((call) => call.method === method);
          return matching.length >= n ? matching.slice(0, n) : undefined;
        },
        timeoutMs,
        () => `expected ${n} ${method} calls, got ${calls.filter((call) => call.method === method).length}`,
      ),
    pushUpdate,
    sendText: (input) => {
      const content: Record<string, unknown> = { text: input.text };
      if (input.text.startsWith('/')) {
        const end = input.text.search(/\s/);
        const entity: MessageEntity = { type: 'bot_command', offset: 0, length: end === -1 ? input.text.length : end };
        content.entities = [entity];
      }
      if (input.entities) content.entities = [...((content.entities as MessageEntity[] | undefined) ?? []), ...input.entities];
      return userMessage(input, content);
    },
    downloads,
    sendDocument: (input) => {
      const id = nextFileId++;
      const bytes = input.content === undefined ? undefined : Buffer.from(input.content);
      const document: Record<string, unknown> = {
        file_id: `document-${id}`,
        file_unique_id: `udocument${id}`,
        file_name: input.fileName,
        file_size: input.fileSize ?? bytes?.length ?? 0,
      };
      if (bytes) fileContents.set(`document-${id}`, bytes);
      if (input.mimeType !== undefined) document.mime_type = input.mimeType;
      const content: Record<string, unknown> = { document };
      if (input.caption !== undefined) {
        content.caption = input.caption;
        if (input.caption.startsWith('/')) {
          const end = input.caption.search(/\s/);
          content.caption_entities = [{ type: 'bot_command', offset: 0, length: end === -1 ? input.caption.length : end }];
        }
      }
      return userMessage(input, content);
    },
    pressButton: (input) => {
      const from = rememberUser(input.userId);
      const state = chatState(input.chatId, undefined, input.threadId !== undefined);
      const known = state.messages.get(input.messageId);
      let message: Message;
      if (known !== undefined) message = clone(known);
      else {
        const minimal: Record<string, unknown> = { message_id: input.messageId, chat: clone(state.chat), date: nowSeconds() };
        if (input.threadId !== undefined) {
          minimal.message_thread_id = input.threadId;
          minimal.is_topic_message = true;
        }
        message = minimal as unknown as Message;
      }
      const id = String(4_000_000_000_000 + nextCallbackId++);
      return pushUpdate({
        callback_query: { id, from, chat_instance: `instance${input.chatId}`, data: input.data, message },
      });
    },
    pendingUpdates: () => clone(queue),
    messages: (chatId) =>
      [...(chats.get(chatId)?.messages.values() ?? [])]
        .filter((message) => message.from?.id === botInfo.id)
        .sort((a, b) => a.message_id - b.message_id)
        .map(clone),
    setMember: (chatId, userId, status) => {
      chatState(chatId).members.set(userId, status);
    },
    failNext: (method, failure = {}) => {
      const status = failure.status ?? 500;
      const retryAfter = failure.retryAfter ?? (status === 429 ? 1 : undefined);
      const description =
        failure.description ?? (status === 429 ? `Too Many Requests: retry after ${retryAfter}` : (STATUS_TEXT[status] ?? 'Internal Server Error'));
      const answer = fail(status, description, retryAfter === undefined ? undefined : { retry_after: retryAfter });
      const pending = failures.get(method) ?? [];
      pending.push({ remaining: failure.count ?? 1, answer });
      failures.set(method, pending);
    },
    async deliverWebhook(origin, deliverOptions = {}) {
      if (webhookUrl === '') throw new Error('no webhook is registered (setWebhook was not called)');
      const path = new URL(webhookUrl).pathname;
      const secret = deliverOptions.secret === undefined ? webhookSecret : deliverOptions.secret;
      const statuses: number[] = [];
      for (const update of [...queue]) {
        const res = await fetch(new URL(path, origin), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(secret != null ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
          body: JSON.stringify(update),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
        if (res.ok) queue = queue.filter((u) => u.update_id !== update.update_id);
      }
      return statuses;
    },
    setAnswerDelay: (method, ms) => {
      answerDelays.set(method, ms);
    },
    setDown: (isDown, downOptions = {}) => {
      down = isDown ? { includeGetUpdates: downOptions.includeGetUpdates ?? true } : undefined;
    },
    loseConfirmations: (lose) => {
      losingConfirmations = lose;
    },
    close: () => {
      closing ??= (async () => {
        const poll = heldPoll;
        if (poll !== undefined) {
          const finished = new Promise<void>((resolve) => {
            poll.res.once('finish', resolve);
            poll.res.once('close', resolve);
          });
          answerPoll(poll, ok([]));
          await finished;
        }
        for (const waiter of callWaiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`fake-telegram: closed while waiting; calls seen: ${summary()}`));
        }
        callWaiters.clear();
        for (const timer of delayedAnswers) clearTimeout(timer);
        delayedAnswers.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

interface ParsedBody {
  payload: Record<string, unknown>;
  files?: RecordedUpload[];
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(body: Buffer, contentType: string): ParsedBody {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (contentType.toLowerCase().startsWith('multipart/form-data') && boundary !== null) {
    return parseMultipart(body, boundary[1] ?? boundary[2] ?? '');
  }
  if (body.length === 0) return { payload: {} };
  const value: unknown = JSON.parse(body.toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('body is not a JSON object');
  return { payload: value as Record<string, unknown> };
}

function coerceField(key: string, value: string): unknown {
  if (INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) return Number(value);
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (BOOLEAN_FIELD.test(key) && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

// Enough of RFC 7578 for grammY's uploads: text fields are decoded, file parts only measured.
function parseMultipart(body: Buffer, boundary: string): ParsedBody {
  const delimiter = Buffer.from(`--${boundary}`);
  const payload: Record<string, unknown> = {};
  const parts: Array<{ name: string; filename: string; content: Buffer }> = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString('latin1') === '--') break;
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    const part = body.subarray(partStart + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const content = part.subarray(headerEnd + 4);
      const name = /(?:^|[;\s:])name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
      if (name !== undefined && filename !== undefined) parts.push({ name, filename, content: Buffer.from(content) });
      else if (name !== undefined) payload[name] = coerceField(name, content.toString('utf8'));
    }
    start = next;
  }
  // grammY names each file part randomly and puts `attach://<name>` in the field that holds it.
  const files = parts.map(({ name, filename, content }) => {
    const field = Object.keys(payload).find((key) => payload[key] === `attach://${name}`) ?? name;
    return { field, filename, bytes: content.length, content };
  });
  return { payload, files };
}

/**
 * The mention entities Telegram derives from an HTML message: `<a href="tg://user?id=N">name</a>`
 * becomes a text_mention of user N, a bare `@username` a mention; offsets count UTF-16 units of the
 * text without its tags, as Telegram's do. Enough HTML for what Lookout sends.
 */
export function mentionEntities(html: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  let plain = '';
  const unescape = (t: string): string => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  const re = /<a href="tg:\/\/user\?id=(\d+)">([^<]*)<\/a>|<[^>]+>|([^<]+)/g;
  for (const m of html.matchAll(re)) {
    if (m[1] !== undefined) {
      const name = unescape(m[2] ?? '');
      entities.push({ type: 'text_mention', offset: plain.length, length: name.length, user: { id: Number(m[1]), is_bot: false, first_name: name } });
      plain += name;
    } else if (m[3] !== undefined) {
      const text = unescape(m[3]);
      for (const u of text.matchAll(/(^|[^\w@])(@[A-Za-z][A-Za-z0-9_]{4,31})\b/g)) {
        entities.push({ type: 'mention', offset: plain.length + (u.index ?? 0) + (u[1]?.length ?? 0), length: u[2]!.length });
      }
      plain += text;
    }
  }
  return entities;
}

/** The text of a recorded sendMessage/editMessageText call. */
export const textOf = (call: RecordedCall): string => String(call.payload.text);

/** The inline buttons of a recorded call, flattened. */
export function buttonsOf(call: RecordedCall): Array<{ text: string; callback_data: string }> {
  const markup = call.payload.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}
