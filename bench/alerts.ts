// npm run bench:alerts [-- --alerts 200 --json]
// Alert latency: from the end of the failing check to the (fake) Bot API receiving sendMessage,
// through the real app: state machine → policy → outbox persisted in SQLite → throttled delivery.
// Each alert goes to its own chat, so Telegram's per-chat pacing does not apply.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEnv } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { startApp } from '../src/main.js';
import { openStore } from '../src/store/keyv.js';
import { createTargetRepository } from '../src/store/targets.js';
import { startFakeTelegram } from '../test/support/fake-telegram.js';
import { closedPort, httpTarget } from '../test/support/target-server.js';
import { quantile, round } from './stats.js';

const { values: args } = parseArgs({ options: { alerts: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } } });
const N = Number(args.alerts);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const telegram = await startFakeTelegram();
  const dataDir = await mkdtemp(join(tmpdir(), 'lookout-bench-alerts-'));
  const port = await closedPort();
  const seed = await openStore({ kind: 'sqlite', dataDir });
  const repo = createTargetRepository(seed);
  for (let i = 0; i < N; i++) {
    const chatId = -1_000_000_000 - i;
    await repo.put(httpTarget({ id: `${chatId}/t${i}`, chatId, name: `t${i}`, url: `http://127.0.0.1:${port}/t${i}`, everyMs: 3_600_000, confirm: 1 }));
  }
  await seed.close();
  const parsed = parseEnv({ BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, ALLOWED_CHAT_IDS: '-1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const app = await startApp(parsed.config, { logger: createLogger('silent'), pollTimeoutS: 30 });
  const downAt = new Map<number, number>();
  app.engine.onChange((change, target) => {
    if (change.to === 'DOWN') downAt.set(target.chatId, Date.now());
  });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const chatId = -1_000_000_000 - i;
      await app.engine.checkNow(`${chatId}/t${i}`);
      const call = await telegram.waitFor('sendMessage', (c) => c.payload.chat_id === chatId, 10_000);
      latencies.push(call.at - downAt.get(chatId)!);
      // Stay under the global 30 messages/s so the measure is not throttling.
      await sleep(50);
    }
  } finally {
    await app.stop();
    await telegram.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const result = {
    bench: 'alerts',
    alerts: latencies.length,
    alert_latency_p50_ms: round(quantile(latencies, 0.5), 1),
    alert_latency_p99_ms: round(quantile(latencies, 0.99), 1),
    alert_latency_max_ms: round(quantile(latencies, 1), 1),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(30)} ${String(v).padStart(12)}  ${k === 'alert_latency_p99_ms' ? 'goal < 50' : ''}`);
}

await main();
