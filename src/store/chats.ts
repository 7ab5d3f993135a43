import type { KeyvStore } from './keyv.js';

/** Someone on call: mentioned by @username, or by id (a text mention) when they have none. */
export interface OnCallPerson {
  id?: number;
  username?: string;
  /** How they are shown. */
  name: string;
}

/** Per-chat settings (`/settings`, `/oncall`). */
export interface ChatSettings {
  /** IANA time zone for `HH:MM` starts and for showing times. */
  tz: string;
  /** Who is mentioned, in order, when an alert is not acknowledged in time. */
  oncall?: OnCallPerson[];
  /** Escalate an unacknowledged alert after this long (ms; 0 or absent = never), unless a target sets `escalate=`. */
  escalateMs?: number;
}

/** Chat settings by chat id; a chat never configured gets the defaults. */
export interface ChatSettingsRepository {
  get(chatId: number): Promise<ChatSettings>;
  put(chatId: number, settings: ChatSettings): Promise<void>;
}

/** The defaults of a chat: UTC. */
export const DEFAULT_CHAT_SETTINGS: ChatSettings = { tz: 'UTC' };

/** The chat settings repository over the `chats` namespace. */
export function createChatSettingsRepository(store: KeyvStore): ChatSettingsRepository {
  const keyv = store.namespace<ChatSettings>('chats');
  return {
    get: async (chatId) => ({ ...DEFAULT_CHAT_SETTINGS, ...((await keyv.get(String(chatId))) ?? {}) }),
    put: async (chatId, settings) => {
      await keyv.set(String(chatId), settings);
    },
  };
}
