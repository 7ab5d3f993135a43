import { describe, expect, it } from 'vitest';
import { CHANNEL_SPECS } from '../../src/alerts/channels/kinds.js';
import { parseEnv } from '../../src/config/config.js';
import { CORE_SETTINGS, SETTINGS, type SettingDeclaration } from '../../src/config/settings.js';

/** A value that differs from the default (valid or not): setting it must change what parseEnv gives. */
function sampleOf(d: SettingDeclaration): string {
  switch (d.kind) {
    case 'integer':
      return String(d.default === d.min ? d.max : d.min);
    case 'seconds':
      return `${d.default === d.min ? d.max : d.min}s`;
    case 'boolean':
      return String(!d.default);
    case 'choice':
      return d.values.find((v) => v !== d.default)!;
    case 'days':
      return String(d.max);
    case 'ids':
      return '42';
    case 'url':
      return 'https://settings.example';
    case 'text':
      return 'settings-sample';
  }
}

describe('the declared settings', () => {
  it('names each setting once, channel kinds included', () => {
    const names = SETTINGS.map((s) => s.name);
    expect(names.length).toBeGreaterThan(Object.keys(CORE_SETTINGS).length);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('has defaults inside their ranges and among their values', () => {
    for (const [name, d] of Object.entries(CORE_SETTINGS) as Array<[string, SettingDeclaration]>) {
      if (d.kind === 'integer' || d.kind === 'seconds') expect([name, d.min <= d.default && d.default <= d.max]).toEqual([name, true]);
      if (d.kind === 'days') expect([name, d.default.every((v) => d.min <= v && v <= d.max)]).toEqual([name, true]);
      if (d.kind === 'choice') expect(d.values).toContain(d.default);
    }
  });

  it('are what parseEnv gives when nothing is set', () => {
    const result = parseEnv({});
    if (!result.ok) throw new Error(result.errors.join('; '));
    const c = result.config;
    expect([c.httpPort, c.checkConcurrency, c.maxTargetsPerChat, c.history.minuteHours, c.history.hourDays, c.trace.cycles, c.trace.maxHops]).toEqual(
      [CORE_SETTINGS.HTTP_PORT, CORE_SETTINGS.CHECK_CONCURRENCY, CORE_SETTINGS.MAX_TARGETS_PER_CHAT, CORE_SETTINGS.HISTORY_MINUTE_HOURS, CORE_SETTINGS.HISTORY_DAYS, CORE_SETTINGS.TRACE_CYCLES, CORE_SETTINGS.TRACE_MAX_HOPS].map((d) => d.default),
    );
    expect([c.trace.intervalS, c.trace.timeoutMs / 1_000]).toEqual([CORE_SETTINGS.TRACE_INTERVAL.default, CORE_SETTINGS.TRACE_TIMEOUT.default]);
    expect([c.logLevel, c.trace.mode, c.dataDir, c.telegramApiRoot, c.trace.binary, c.allowMetadataTargets]).toEqual([
      CORE_SETTINGS.LOG_LEVEL.default,
      CORE_SETTINGS.TRACE_MODE.default,
      CORE_SETTINGS.DATA_DIR.default,
      CORE_SETTINGS.TELEGRAM_API_ROOT.default,
      CORE_SETTINGS.MTR_PATH.default,
      CORE_SETTINGS.ALLOW_METADATA_TARGETS.default,
    ]);
    expect(c.expiryWarnDays).toEqual(CORE_SETTINGS.EXPIRY_WARN_DAYS.default);
  });

  // A declared setting that parseEnv never reads would be documented but do nothing.
  it.each(Object.entries(CORE_SETTINGS) as Array<[string, SettingDeclaration]>)('parseEnv reads %s', (name, d) => {
    expect(parseEnv({ [name]: sampleOf(d) })).not.toStrictEqual(parseEnv({}));
  });

  it.each(CHANNEL_SPECS.flatMap((spec) => spec.env.map((s) => s.name)))('parseEnv reads the channel setting %s', (name) => {
    expect(parseEnv({ [name]: 'settings-sample' })).not.toStrictEqual(parseEnv({}));
  });

  it('rejects a whole-number setting just outside its declared range, naming the range', () => {
    for (const [name, d] of Object.entries(CORE_SETTINGS) as Array<[string, SettingDeclaration]>) {
      if (d.kind !== 'integer') continue;
      expect(parseEnv({ [name]: String(d.max + 1) })).toEqual({ ok: false, errors: [`${name} must be a whole number between ${d.min} and ${d.max}, got "${d.max + 1}"`] });
      if (d.min > 0) expect(parseEnv({ [name]: String(d.min - 1) })).toMatchObject({ ok: false });
      expect(parseEnv({ [name]: String(d.min) })).toMatchObject({ ok: true });
    }
  });
});
