import { readFileSync } from 'node:fs';
import { Composer } from 'grammy';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBot, startChat } from '../../src/bot/index.js';
import { createAccess } from '../../src/bot/middleware/access.js';
import { COMMANDS, helpText } from '../../src/bot/texts.js';
import { systemClock } from '../../src/lib/clock.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { tablesWithHeader } from '../support/markdown-tables.js';

// COMMANDS (in src/bot/texts.ts) is what /help lists and what setMyCommands tells Telegram; the command
// families register their handlers with bot.command(...). This holds the two, and README's command
// table, to one another.

/** Commands handled but not listed on their own: /start is Telegram's first message, answered as /help. */
const ALIASES: Readonly<Record<string, string>> = { start: 'help' };

const GROUP = -1001234567890;
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The names the real bot registers with `.command(...)`, on any of its composers. */
function registeredCommands(telegram: FakeTelegram): string[] {
  const spy = vi.spyOn(Composer.prototype, 'command');
  try {
    const access = createAccess({ allowedChatIds: [GROUP], adminUserIds: [], clock: systemClock, told: { has: async () => false, add: async () => undefined } });
    // Only access is used while the handlers are installed; the rest of the deps are reached by updates.
    createBot({ access } as never, { token: telegram.token, apiRoot: telegram.apiRoot, conversationStorage: { read: () => undefined, write: () => undefined, delete: () => undefined }, botInfo: telegram.botInfo });
    return spy.mock.calls.flatMap(([command]) => (Array.isArray(command) ? command : [command])).map(String);
  } finally {
    spy.mockRestore();
  }
}

/** The commands one side has and the other lacks; COMMANDS counts with its aliases. */
function differences(left: { where: string; commands: readonly string[] }, right: { where: string; commands: readonly string[] }): string[] {
  const l = new Set(left.commands);
  const r = new Set(right.commands);
  return [
    ...[...l].filter((c) => !r.has(c)).map((c) => `/${c} is in ${left.where} but not in ${right.where}`),
    ...[...r].filter((c) => !l.has(c)).map((c) => `/${c} is in ${right.where} but not in ${left.where}`),
  ];
}

const LISTED = { where: 'COMMANDS', commands: [...COMMANDS.map((c) => c.command), ...Object.keys(ALIASES)] };

/** The commands README's `| command | who | what it does |` table names in its first column. */
function readmeCommands(markdown: string): string[] {
  const rows = tablesWithHeader(markdown, ['command', 'who', 'what it does']).flat();
  return [...new Set(rows.flatMap(({ cells }) => [...(cells[0] ?? '').matchAll(/`\/([a-z0-9_]+)/g)].map((m) => m[1]!)))];
}

let telegram: FakeTelegram | undefined;
afterEach(async () => {
  await telegram?.close();
  telegram = undefined;
});

describe('the commands the bot handles are the ones it lists', () => {
  it('registers a handler for each command of COMMANDS, and for no other (but /start)', async () => {
    telegram = await startFakeTelegram();
    const handled = registeredCommands(telegram);
    expect(handled).toContain('list');
    expect(differences({ where: 'the handlers', commands: handled }, LISTED)).toEqual([]);
    for (const target of Object.values(ALIASES)) expect(COMMANDS.map((c) => c.command)).toContain(target);
  });

  it('tells Telegram exactly COMMANDS with setMyCommands, each within its limits', async () => {
    telegram = await startFakeTelegram();
    const access = createAccess({ allowedChatIds: [GROUP], adminUserIds: [], clock: systemClock, told: { has: async () => false, add: async () => undefined } });
    const bot = createBot({ access } as never, { token: telegram.token, apiRoot: telegram.apiRoot, conversationStorage: { read: () => undefined, write: () => undefined, delete: () => undefined }, botInfo: telegram.botInfo });
    const chat = startChat(bot, { pollTimeoutS: 1 });
    try {
      await chat.ready;
      const call = await telegram.waitFor('setMyCommands');
      const sent = call.payload.commands as Array<{ command: string; description: string }>;
      expect(sent).toEqual(COMMANDS.map(({ command, description }) => ({ command, description })));
      // Telegram: 1-32 characters of a-z, 0-9 and _; descriptions 1-256 characters; at most 100 commands.
      expect(sent.length).toBeLessThanOrEqual(100);
      for (const c of sent) {
        expect(c.command).toMatch(/^[a-z0-9_]{1,32}$/);
        expect(c.description.length).toBeGreaterThanOrEqual(1);
        expect(c.description.length).toBeLessThanOrEqual(256);
      }
    } finally {
      await chat.stop(1_000);
    }
  });

  it('lists every command in /help', () => {
    const help = helpText();
    for (const { command } of COMMANDS) expect(help).toContain(`/${command}`);
  });

  it("README's command table names each command of COMMANDS, and no other", () => {
    expect(differences({ where: "README's table", commands: readmeCommands(README) }, LISTED)).toEqual([]);
  });

  it('the comparisons fail on a difference', () => {
    expect(differences({ where: 'the handlers', commands: ['start', 'help', 'list', 'extra'] }, { where: 'COMMANDS', commands: ['start', 'help', 'list', 'gone'] })).toEqual([
      '/extra is in the handlers but not in COMMANDS',
      '/gone is in COMMANDS but not in the handlers',
    ]);
    const withoutList = README.replace(/^\| `\/list` \|.*\n/m, '');
    expect(withoutList).not.toBe(README);
    expect(differences({ where: "README's table", commands: readmeCommands(withoutList) }, LISTED)).toEqual(["/list is in COMMANDS but not in README's table"]);
    expect(readmeCommands('| command | who | what it does |\n|---|---|---|\n| `/foo X`, `/bar` | admins | `/baz` is not a row name |\n')).toEqual(['foo', 'bar']);
  });
});
