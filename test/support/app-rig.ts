import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseEnv, type Config } from '../../src/config/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type App } from '../../src/main.js';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from './fake-telegram.js';
import { startTargetServer, type TargetServer } from './target-server.js';

/** The group chat the tests talk in, an admin, a plain member. */
export const GROUP = -1001234567890;
export const ADMIN = 1001;
export const MEMBER = 2002;
export const OWNER = 3003;

/** A started app against a fake Telegram and a target server, with the log lines it wrote. */
export interface AppRig {
  app: App;
  telegram: FakeTelegram;
  server: TargetServer;
  dataDir: string;
  logs: string[];
  config: Config;
  /** Sends text to the group as `userId` (ADMIN by default) and waits for the reply containing `expect`. */
  say(text: string, expect?: string, userId?: number, chatId?: number): Promise<RecordedCall>;
  /** Starts another app on the same DATA_DIR (after `app.stop()`). */
  restart(): Promise<App>;
  close(): Promise<void>;
}

/** Test-speed throttling: Telegram's per-chat pacing off, the global reservoir kept. */
export const FAST_THROTTLE = {
  group: { maxConcurrent: 1, minTime: 0 },
  out: { maxConcurrent: 1, minTime: 0 },
};

/** Starts the whole app (config → store → engine → alerts → bot) against local peers. */
export async function startAppRig(
  env: Record<string, string> = {},
  existing?: { dataDir: string; telegram: FakeTelegram; server: TargetServer },
  extra: { clock?: Clock; boardIntervalMs?: number; outboxBackoffMs?: { base: number; max: number }; probeEveryMs?: number; groupWindowMs?: number } = {},
): Promise<AppRig> {
  const telegram = existing?.telegram ?? (await startFakeTelegram());
  const server = existing?.server ?? (await startTargetServer());
  const dataDir = existing?.dataDir ?? (await mkdtemp(join(tmpdir(), 'lookout-e2e-')));
  telegram.setMember(GROUP, ADMIN, 'administrator');
  telegram.setMember(GROUP, OWNER, 'creator');
  telegram.setMember(GROUP, MEMBER, 'member');
  const parsed = parseEnv({
    BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ALLOWED_CHAT_IDS: String(GROUP),
    ADMIN_USER_IDS: '',
    DATA_DIR: dataDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'debug',
    SOURCE_LABEL: 'test-runner',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const config = parsed.config;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const options = {
    ...(extra.clock ? { clock: extra.clock } : {}),
    ...(extra.boardIntervalMs !== undefined ? { boardIntervalMs: extra.boardIntervalMs } : {}),
    logger: createLogger('debug', sink),
    throttle: FAST_THROTTLE,
    pollTimeoutS: 1,
    outboxBackoffMs: extra.outboxBackoffMs ?? { base: 50, max: 400 },
    ...(extra.probeEveryMs !== undefined ? { probeEveryMs: extra.probeEveryMs } : {}),
    ...(extra.groupWindowMs !== undefined ? { groupWindowMs: extra.groupWindowMs } : {}),
  };
  const rig: AppRig = {
    app: await startApp(config, options),
    telegram,
    server,
    dataDir,
    logs,
    config,
    async say(text, expect, userId = ADMIN, chatId = GROUP) {
      const before = telegram.calls.length;
      telegram.sendText({ chatId, userId, text, username: `user${userId}` });
      return telegram.waitFor(
        'sendMessage',
        (c) => telegram.calls.indexOf(c) >= before && c.payload.chat_id === chatId && (expect === undefined || String(c.payload.text).includes(expect)),
      );
    },
    async restart() {
      rig.app = await startApp(config, options);
      return rig.app;
    },
    async close() {
      await rig.app.stop();
      await telegram.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}
