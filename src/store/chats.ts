import { isStorageFault } from './faults.js';
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
  /** Reads every chat's settings once (at start), so that a read the database cannot answer later falls back to them. */
  load(): Promise<void>;
}

/** The defaults of a chat: UTC. */
export const DEFAULT_CHAT_SETTINGS: ChatSettings = { tz: 'UTC' };

/** The chat settings repository over the `chats` namespace. */
export function createChatSettingsRepository(store: KeyvStore): ChatSettingsRepository {
  const keyv = store.namespace<ChatSettings>('chats');
  // The last settings read or written per chat: the store answers first, these only when it cannot (a
  // PostgreSQL outage), so that an alert raised meanwhile still schedules its escalation.
  const known = new Map<string, ChatSettings | undefined>();
  let loaded = false;
  return {
    async get(chatId) {
      const key = String(chatId);
      let stored: ChatSettings | undefined;
      try {
        stored = await keyv.get(key);
        known.set(key, stored);
      } catch (err) {
        // After load() every chat's settings are known here (a chat missing has the defaults).
        if (!isStorageFault(err) || (!loaded && !known.has(key))) throw err;
        stored = known.get(key);
      }
      return { ...DEFAULT_CHAT_SETTINGS, ...(stored ?? {}) };
    },
    put: async (chatId, settings) => {
      await keyv.set(String(chatId), settings);
      known.set(String(chatId), settings);
    },
    async load() {
      if (!keyv.iterator) return;
      for await (const [key, value] of keyv.iterator(undefined)) known.set(String(key), value as ChatSettings);
      loaded = true;
    },
  };
}
