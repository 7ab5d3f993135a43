import { describe, expect, it } from 'vitest';
import { MESSAGE_LIMIT, splitMessage } from '../../src/alerts/split.js';
import { COMMANDS, errorText, helpText, listText, maskSecret, statusText, unknownTarget } from '../../src/bot/texts.js';
import type { Incident } from '../../src/domain/incident.js';
import type { StateRecord, TargetState } from '../../src/domain/state.js';
import { httpTarget, tcpTarget } from '../support/target-server.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

const record = (targetId: string, state: TargetState, over: Partial<StateRecord> = {}): StateRecord => ({
  targetId,
  state,
  since: NOW - 300_000,
  consecutiveFailures: 0,
  consecutiveSuccesses: 0,
  checks: 10,
  failures: 3,
  ...over,
});

/** A deterministic pseudo-random generator, so the property tests are the same on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('splitMessage', () => {
  it('returns text under or at the limit unchanged', () => {
    expect(splitMessage('short')).toEqual(['short']);
    expect(splitMessage('')).toEqual(['']);
    const exact = 'x'.repeat(MESSAGE_LIMIT);
    expect(splitMessage(exact)).toEqual([exact]);
    expect(splitMessage('a\nb\nc', 5)).toEqual(['a\nb\nc']);
  });

  it('splits at line breaks, keeping whole lines together', () => {
    const line = 'a'.repeat(10);
    const text = Array.from({ length: 5 }, () => line).join('\n');
    expect(splitMessage(text, 25)).toEqual([`${line}\n${line}`, `${line}\n${line}`, line]);
  });

  it('splits a long /list into messages under 4096 characters', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `🟢 <b>target-${i}</b> · 123 ms · 5m`);
    const chunks = splitMessage(lines.join('\n'));
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(chunks.flatMap((c) => c.split('\n'))).toEqual(lines);
  });

  it('cuts a line longer than the limit', () => {
    expect(splitMessage('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(splitMessage(`ab\n${'y'.repeat(12)}\ncd`, 10)).toEqual(['ab', 'y'.repeat(10), 'yy\ncd']);
  });

  it('never exceeds the limit and loses no text (random texts)', () => {
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      const limit = 5 + Math.floor(next() * 60);
      const lines = Array.from({ length: 1 + Math.floor(next() * 30) }, () => 'abcdefghij'.repeat(10).slice(0, Math.floor(next() * limit * 2.5)));
      const text = lines.join('\n');
      const chunks = splitMessage(text, limit);
      for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(limit);
      // Only the line breaks between chunks (and blank lines there) may go.
      expect(chunks.join('').replace(/\n/g, '')).toBe(text.replace(/\n/g, ''));
    }
  });
});

describe('maskSecret', () => {
  it.each([
    ['', '••••'],
    ['a', '••••'],
    ['abcd', '••••'],
    ['abcde', 'ab••••'],
    ['Bearer sk_live_1234567890', 'Be••••'],
  ])('%j → %s', (value, masked) => {
    expect(maskSecret(value)).toBe(masked);
  });

  it('never reveals more than 2 characters, nor the length', () => {
    const next = random(7);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ ';
    for (let i = 0; i < 200; i++) {
      const value = Array.from({ length: Math.floor(next() * 80) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      const shown = maskSecret(value).replace(/•/g, '');
      expect(shown.length).toBeLessThanOrEqual(2);
      expect(value.startsWith(shown)).toBe(true);
      expect(maskSecret(value).length).toBeLessThanOrEqual(6);
    }
  });
});

describe('statusText', () => {
  const SECRET = 'Zq9vX7pL2mK4wR8t';
  const target = httpTarget({
    id: '1/api',
    chatId: 1,
    name: 'api',
    url: 'https://api.example.com/health?x=1&y=2',
    keyword: '<ok>',
    note: '<b>call</b> & "Bob"',
    headers: [
      { name: 'Authorization', value: `Bearer ${SECRET}` },
      { name: 'X-Api-Key', value: 'k3y' },
    ],
  });

  it('masks header values: no part of a secret longer than 2 characters appears', () => {
    const text = statusText(target, undefined, undefined, NOW);
    expect(text).toContain('Headers: Authorization: Be••••, X-Api-Key: ••••');
    expect(text).not.toContain(SECRET);
    for (let i = 0; i + 3 <= SECRET.length; i++) expect(text).not.toContain(SECRET.slice(i, i + 3));
    expect(text).not.toContain('k3y');
  });

  it('escapes the address, the keyword and the note', () => {
    const text = statusText(target, undefined, undefined, NOW);
    expect(text).toContain('https://api.example.com/health?x=1&amp;y=2');
    expect(text).toContain('keyword &quot;&lt;ok&gt;&quot;');
    expect(text).toContain('Note: &lt;b&gt;call&lt;/b&gt; &amp; &quot;Bob&quot;');
    expect(text).not.toContain('<ok>');
  });

  it('shows the state, the last check, the counts and the open incident', () => {
    const last = { ok: false, at: NOW - 10_000, latencyMs: 40, status: 503, failure: 'status' as const, reason: 'HTTP 503, expected 200-299' };
    const incident: Incident = {
      id: 'inc1',
      targetId: target.id,
      chatId: 1,
      name: 'api',
      openedAt: NOW - 300_000,
      reason: 'HTTP 503 <html>',
      facts: { id: 'inc1', target: { id: target.id, name: 'api', address: 'x' }, reason: 'HTTP 503 <html>', openedAt: NOW - 300_000, failedChecks: 2, source: { label: 's' } },
      ack: { userId: 5, name: 'Ann & co', at: NOW - 60_000 },
    };
    const lines = statusText(target, record(target.id, 'DOWN', { lastResult: last }), incident, NOW).split('\n');
    expect(lines[0]).toBe('🔴 <b>api</b> is DOWN since 2026-11-23 11:55:00 UTC (5m)');
    expect(lines).toContain('Last check: HTTP 503, expected 200-299 at 2026-11-23 11:59:50 UTC');
    expect(lines).toContain('Checks: 10 (3 failed)');
    expect(lines).toContain('Open incident since 2026-11-23 11:55:00 UTC: HTTP 503 &lt;html&gt;, acknowledged by Ann &amp; co');
  });

  it('a tcp target without a record is UNKNOWN and has no header line', () => {
    const text = statusText(tcpTarget({ id: '1/db', name: 'db', host: 'db.internal', port: 5432 }), undefined, undefined, NOW);
    expect(text.split('\n').slice(0, 2)).toEqual(['⚪ <b>db</b> is UNKNOWN', 'db.internal:5432']);
    expect(text).not.toContain('Headers');
  });
});

describe('listText', () => {
  it('says how to add a target when there are none', () => {
    expect(listText([], () => undefined, NOW)).toContain('No targets yet');
  });

  it('shows one line per target with its icon, detail and age, escaped', () => {
    const targets = [
      httpTarget({ id: '1/api', name: 'api' }),
      httpTarget({ id: '1/db', name: 'db' }),
      httpTarget({ id: '1/old', name: 'old', paused: true }),
      tcpTarget({ id: '1/new', name: 'new' }),
    ];
    const records: Record<string, StateRecord> = {
      '1/api': record('1/api', 'UP', { lastResult: { ok: true, at: NOW, latencyMs: 123, status: 200 } }),
      '1/db': record('1/db', 'DOWN', { since: NOW - 60_000, lastResult: { ok: false, at: NOW, latencyMs: 5, reason: 'keyword "<ok>" not found' } }),
      '1/old': record('1/old', 'PAUSED', { since: NOW - 86_400_000 }),
    };
    expect(listText(targets, (id) => records[id], NOW).split('\n')).toEqual([
      '<b>Targets</b> (4)',
      '🟢 <b>api</b> · 123 ms · 5m',
      '🔴 <b>db</b> · keyword &quot;&lt;ok&gt;&quot; not found · 1m',
      '⏸ <b>old</b> · paused · 1d',
      '⚪ <b>new</b> · not checked yet',
    ]);
  });
});

describe('helpText', () => {
  it('lists every command with its usage', () => {
    const text = helpText();
    for (const c of COMMANDS) {
      expect(text).toMatch(new RegExp(`^/${c.command}\\b.* — ${c.description}$`, 'm'));
    }
    expect(COMMANDS.map((c) => c.command)).toEqual(expect.arrayContaining(['help', 'add', 'list', 'status', 'edit', 'remove', 'pause', 'resume', 'check']));
  });

  it('uses only the tags Telegram knows', () => {
    const tags = new Set(helpText().match(/<\/?[a-z]+>/g));
    expect([...tags].every((t) => ['<b>', '</b>', '<code>', '</code>'].includes(t))).toBe(true);
    expect(helpText().replace(/<\/?(b|code)>/g, '')).not.toMatch(/[<>]/);
  });
});

describe('errorText and unknownTarget', () => {
  it('escapes what was wrong and adds the usage', () => {
    expect(errorText(['interval must be between 10s and 24h, got "5s"'], 'interval')).toBe(
      '⚠️ interval must be between 10s and 24h, got &quot;5s&quot;\nUsage: <code>/interval NAME 30s</code>',
    );
    expect(errorText(['bad <input>'])).toBe('⚠️ bad &lt;input&gt;');
  });

  it('escapes the unknown name', () => {
    expect(unknownTarget('<x>')).toContain('"&lt;x&gt;"');
  });
});
