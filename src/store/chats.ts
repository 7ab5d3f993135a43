import type { KeyvStore } from './keyv.js';

/** Per-chat settings (`/settings`). */
export interface ChatSettings {
  /** IANA time zone for `HH:MM` starts and for showing times. */
  tz: string;
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
