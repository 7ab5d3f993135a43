import { describe, expect, it } from 'vitest';
import { formatBoard } from '../../../../src/alerts/channels/telegram/board.js';
import { initialState, type StateRecord, type TargetState } from '../../../../src/domain/state.js';
import { httpTarget } from '../../../support/target-server.js';

const T = Date.UTC(2026, 11, 1, 9, 5);
const record = (id: string, state: TargetState, ok = true): StateRecord => ({
  ...initialState(id, T),
  state,
  since: T,
  lastResult: ok ? { ok: true, at: T, latencyMs: 42 } : { ok: false, at: T, latencyMs: 10_000, reason: 'timeout after 10s' },
});

describe('formatBoard', () => {
  it('groups by state, DOWN first, names sorted, and has no clock in it', () => {
    const targets = ['web', 'api', 'db', 'cache', 'old'].map((name) => httpTarget({ id: `1/${name}`, name }));
    const states: Record<string, StateRecord> = {
      '1/web': record('1/web', 'UP'),
      '1/api': record('1/api', 'DOWN', false),
      '1/db': record('1/db', 'DEGRADED'),
      '1/cache': record('1/cache', 'UP'),
      '1/old': record('1/old', 'PAUSED'),
    };
    const text = formatBoard(targets, (id) => states[id]);
    expect(text).toBe(
      [
        '📊 <b>Status board</b> · 5 targets: 🔴 1 🟡 1 🟢 2 ⏸ 1',
        '',
        '🔴 <b>api</b> · timeout after 10s · since Dec 1 09:05 UTC',
        '',
        '🟡 <b>db</b> · 42 ms · since Dec 1 09:05 UTC',
        '',
        '🟢 <b>cache</b> · 42 ms · since Dec 1 09:05 UTC',
        '🟢 <b>web</b> · 42 ms · since Dec 1 09:05 UTC',
        '',
        '⏸ <b>old</b> · paused · since Dec 1 09:05 UTC',
      ].join('\n'),
    );
    expect(formatBoard(targets, (id) => states[id])).toBe(text);
  });

  it('stays within one message: with very many targets the UP ones are counted, not listed', () => {
    const targets = Array.from({ length: 400 }, (_, i) => httpTarget({ id: `1/t${i}`, name: `target-${i}` }));
    const text = formatBoard(targets, (id) => record(id, id.endsWith('7') ? 'DOWN' : 'UP', !id.endsWith('7')));
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text).toContain('🔴 <b>target-7</b>');
    expect(text).toMatch(/🟢 360 targets UP$/);
  });

  it('says when there are no targets', () => {
    expect(formatBoard([], () => undefined)).toBe('📊 <b>Status board</b> · 0 targets\nNo targets yet: /add one.');
  });
});
