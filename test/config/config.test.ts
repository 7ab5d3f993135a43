import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultLocation, loadConfig, parseEnv, secretsOf, type Config, type ConfigResult, type Env } from '../../src/config/config.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const BOT: Env = { BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: '-1001234567890' };

const DEFAULTS: Config = {
  telegramApiRoot: 'https://api.telegram.org',
  allowedChatIds: [],
  adminUserIds: [],
  dataDir: './data',
  httpPort: 8080,
  logLevel: 'info',
  sourceLabel: hostname(),
  location: defaultLocation(hostname()),
  publicUrl: `http://${hostname()}:8080`,
  checkConcurrency: 100,
  maxTargetsPerChat: 1_000,
  memberTtlMs: 15_000,
  allowMetadataTargets: false,
  expiryWarnDays: [14, 7, 3, 1],
  history: { minuteHours: 48, hourDays: 90 },
  trace: { binary: 'mtr', cycles: 5, intervalS: 1, gracePeriodS: 1, maxHops: 30, timeoutMs: 60_000, mode: 'auto' },
  channelEnv: {},
  channelSecrets: [],
  apiTokens: [],
  apiRatePerMinute: 120,
  apiTokenSecrets: [],
  sentry: { environment: 'production' },
};

function configOf(result: ConfigResult): Config {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.errors.join(' | ')}`);
  return result.config;
}

const TOKEN_ERROR = 'BOT_TOKEN must look like 123456789:AA... (the token BotFather gave you)';
const ALLOWED_REQUIRED = 'ALLOWED_CHAT_IDS is required with BOT_TOKEN: the comma-separated ids of the chats Lookout serves';
const IDS_ERROR = (name: string, got: string): string => `${name} must be comma-separated numeric ids like -1001234567890,42, got ${got}`;
const SECRET_ERROR = 'WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, "_" or "-"';
const SECRET_REQUIRED = 'WEBHOOK_SECRET is required with WEBHOOK_URL, so that only Telegram can post updates';

describe('defaultLocation', () => {
  it('makes a location name of the host name', () => {
    expect(defaultLocation('VM-01.example.com')).toBe('vm-01-example-com');
    expect(defaultLocation('___')).toBe('default');
    expect(defaultLocation('x'.repeat(80))).toHaveLength(32);
  });
});

describe('parseEnv', () => {
  describe('defaults', () => {
    it('runs headless with every default when nothing is set', () => {
      expect(parseEnv({})).toStrictEqual({ ok: true, config: DEFAULTS });
    });

    it.each(['', ' ', '  \t ', undefined])('treats every variable set to %j as unset', (blank) => {
      const names = [
        'BOT_TOKEN',
        'TELEGRAM_API_ROOT',
        'ALLOWED_CHAT_IDS',
        'ADMIN_USER_IDS',
        'DATA_DIR',
        'HTTP_PORT',
        'WEBHOOK_URL',
        'WEBHOOK_SECRET',
        'LOG_LEVEL',
        'SOURCE_LABEL',
        'TARGETS_FILE',
        'STATUS_TOKEN',
        'CHECK_CONCURRENCY',
        'MAX_TARGETS_PER_CHAT',
        'ALLOW_METADATA_TARGETS',
      ];
      expect(parseEnv(Object.fromEntries(names.map((n) => [n, blank])))).toStrictEqual({ ok: true, config: DEFAULTS });
    });

    it('ignores variables it does not know', () => {
      expect(parseEnv({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'test' })).toStrictEqual({ ok: true, config: DEFAULTS });
    });

    it('reads every variable when all are set', () => {
      const env: Env = {
        BOT_TOKEN: ` ${TOKEN} `,
        TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
        ALLOWED_CHAT_IDS: ' -1001234567890, 42 ,',
        ADMIN_USER_IDS: '7,8',
        DATA_DIR: '/var/lib/lookout',
        HTTP_PORT: '8081',
        WEBHOOK_URL: 'https://lookout.fly.dev/telegram/',
        WEBHOOK_SECRET: 'S3cret_-x',
        LOG_LEVEL: 'DEBUG',
        SENTRY_DSN: ' https://0123456789abcdef@o1.ingest.sentry.io/42 ',
        SENTRY_ENVIRONMENT: 'staging',
        SOURCE_LABEL: 'fra1',
        TARGETS_FILE: './targets.yaml',
        STATUS_TOKEN: 'status-token',
        API_TOKENS: 'ci:0123456789abcdef0123:write:42,ro:fedcba98765432100123:read',
        API_RATE_LIMIT: '30',
        CHECK_CONCURRENCY: '8',
        MAX_TARGETS_PER_CHAT: '50',
        ALLOW_METADATA_TARGETS: 'yes',
        HISTORY_MINUTE_HOURS: '24',
        HISTORY_DAYS: '60',
        PUBLIC_URL: 'https://status.example.com/',
        INSTANCE_ID: 'fra1-a',
        LOCATION: 'fra',
        MEMBER_TTL: '9s',
      };
      expect(parseEnv(env)).toStrictEqual({
        ok: true,
        config: {
          botToken: TOKEN,
          telegramApiRoot: 'http://127.0.0.1:8081',
          allowedChatIds: [-1001234567890, 42],
          adminUserIds: [7, 8],
          dataDir: '/var/lib/lookout',
          httpPort: 8081,
          publicUrl: 'https://status.example.com',
          webhookUrl: 'https://lookout.fly.dev/telegram',
          webhookSecret: 'S3cret_-x',
          logLevel: 'debug',
          sentry: { dsn: 'https://0123456789abcdef@o1.ingest.sentry.io/42', environment: 'staging' },
          sourceLabel: 'fra1',
          targetsFile: './targets.yaml',
          statusToken: 'status-token',
          apiTokens: [
            { name: 'ci', scope: 'write', chatId: 42, digest: createHash('sha256').update('0123456789abcdef0123').digest() },
            { name: 'ro', scope: 'read', digest: createHash('sha256').update('fedcba98765432100123').digest() },
          ],
          apiRatePerMinute: 30,
          apiTokenSecrets: ['0123456789abcdef0123', 'fedcba98765432100123'],
          checkConcurrency: 8,
          maxTargetsPerChat: 50,
          instanceId: 'fra1-a',
          location: 'fra',
          memberTtlMs: 9_000,
          allowMetadataTargets: true,
          expiryWarnDays: [14, 7, 3, 1],
          history: { minuteHours: 24, hourDays: 60 },
          trace: DEFAULTS.trace,
          channelEnv: {},
          channelSecrets: [],
        },
      });
    });
  });

  describe('BOT_TOKEN', () => {
    it.each([
      '123:' + 'a'.repeat(30),
      '12345678901234567890:' + 'Z'.repeat(64),
      TOKEN,
      '123456789:AA-_' + '0'.repeat(30),
    ])('accepts %j', (token) => {
      expect(configOf(parseEnv({ ...BOT, BOT_TOKEN: token })).botToken).toBe(token);
    });

    it.each([
      'not-a-token',
      '987654321',
      `12:${'a'.repeat(35)}`,
      `123456789012345678901:${'a'.repeat(35)}`,
      '123456789:short',
      `123456789:${'a'.repeat(29)}`,
      `123456789:${'a'.repeat(65)}`,
      `123456789:AAH!${'a'.repeat(30)}`,
      `123456789:AAH ${'a'.repeat(30)}`,
      `bot${TOKEN}`,
      `${TOKEN}\nextra`,
    ])('refuses %j without repeating it', (token) => {
      const result = parseEnv({ ...BOT, BOT_TOKEN: token });
      expect(result).toEqual({ ok: false, errors: [TOKEN_ERROR] });
      expect(JSON.stringify(result)).not.toContain(token.trim());
      const thrown = (() => {
        try {
          loadConfig({ ...BOT, BOT_TOKEN: token });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(String((thrown as ConfigError).message)).not.toContain(token.trim());
      expect(String((thrown as ConfigError).stack)).not.toContain(token.trim());
    });

    it('leaves botToken out when headless', () => {
      expect(configOf(parseEnv({}))).not.toHaveProperty('botToken');
    });
  });

  describe('ALLOWED_CHAT_IDS and ADMIN_USER_IDS', () => {
    it.each([
      [{ BOT_TOKEN: TOKEN }],
      [{ BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: '' }],
      [{ BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: '   ' }],
      [{ BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: ',' }],
      [{ BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: ' , ,, ' }],
    ])('requires ALLOWED_CHAT_IDS with BOT_TOKEN: %j', (env) => {
      expect(parseEnv(env)).toEqual({ ok: false, errors: [ALLOWED_REQUIRED] });
    });

    it('refuses an API token limited to a chat the bot does not serve, without repeating the token', () => {
      const result = parseEnv({ ...BOT, API_TOKENS: 'rogue:0123456789abcdef0123:write:-1005555555555' });
      expect(result).toEqual({ ok: false, errors: ['API_TOKENS: the token rogue is limited to chat -1005555555555, which is not one of ALLOWED_CHAT_IDS'] });
    });

    it('does not require ALLOWED_CHAT_IDS when headless', () => {
      expect(configOf(parseEnv({ ALLOWED_CHAT_IDS: '' })).allowedChatIds).toEqual([]);
    });

    it('reports bad ids instead of "required" when ids were given', () => {
      expect(parseEnv({ BOT_TOKEN: TOKEN, ALLOWED_CHAT_IDS: 'general' })).toEqual({
        ok: false,
        errors: [IDS_ERROR('ALLOWED_CHAT_IDS', '"general"')],
      });
    });

    describe.each(['ALLOWED_CHAT_IDS', 'ADMIN_USER_IDS'])('%s', (name) => {
      it.each<[string, number[]]>([
        ['42', [42]],
        ['-1001234567890', [-1001234567890]],
        ['-1001234567890,42', [-1001234567890, 42]],
        [' -1001234567890 , 42 ', [-1001234567890, 42]],
        ['1,,2,', [1, 2]],
        ['0', [0]],
        ['9007199254740991', [9_007_199_254_740_991]],
        ['-9007199254740991', [-9_007_199_254_740_991]],
      ])('reads %j as %j', (raw, ids) => {
        const field = name === 'ALLOWED_CHAT_IDS' ? 'allowedChatIds' : 'adminUserIds';
        expect(configOf(parseEnv({ ...BOT, [name]: raw }))[field]).toEqual(ids);
      });

      it.each([
        ['abc', '"abc"'],
        ['1.5', '"1.5"'],
        ['12e3', '"12e3"'],
        ['--1', '"--1"'],
        ['+42', '"+42"'],
        ['0x10', '"0x10"'],
        ['@channel', '"@channel"'],
        ['123456789012345678901', '"123456789012345678901"'],
        ['9007199254740992', '"9007199254740992"'],
        ['42;43', '"42;43"'],
        ['42,x,7,y', '"x", "y"'],
      ])('refuses %j in one message', (raw, got) => {
        expect(parseEnv({ ...BOT, [name]: raw })).toEqual({ ok: false, errors: [IDS_ERROR(name, got)] });
      });
    });
  });

  describe.each<[string, keyof Config, number, number, number]>([
    ['HTTP_PORT', 'httpPort', 8080, 0, 65535],
    ['CHECK_CONCURRENCY', 'checkConcurrency', 100, 1, 10_000],
    ['MAX_TARGETS_PER_CHAT', 'maxTargetsPerChat', 1_000, 1, 100_000],
  ])('%s', (name, field, fallback, min, max) => {
    it('has a default', () => {
      expect(configOf(parseEnv({}))[field]).toBe(fallback);
    });

    it.each([
      [String(min), min],
      [String(max), max],
      [` ${min + 1} `, min + 1],
      ['42', 42],
      ['0042', 42],
    ])('reads %j as %i', (raw, value) => {
      expect(configOf(parseEnv({ [name]: raw }))[field]).toBe(value);
    });

    it.each([String(min - 1), String(max + 1), '-1', '80.5', '1e3', 'http', '8080x', '0x50', '99999999999999999999'])('refuses %j', (raw) => {
      expect(parseEnv({ [name]: raw })).toEqual({
        ok: false,
        errors: [`${name} must be a whole number between ${min} and ${max}, got "${raw}"`],
      });
    });
  });

  describe.each<[string, 'minuteHours' | 'hourDays', number, number, number]>([
    ['HISTORY_MINUTE_HOURS', 'minuteHours', 48, 24, 168],
    ['HISTORY_DAYS', 'hourDays', 90, 60, 400],
  ])('%s', (name, field, fallback, min, max) => {
    it('has a default and reads its range', () => {
      expect(configOf(parseEnv({})).history[field]).toBe(fallback);
      expect(configOf(parseEnv({ [name]: String(min) })).history[field]).toBe(min);
      expect(configOf(parseEnv({ [name]: String(max) })).history[field]).toBe(max);
    });
    it.each([String(min - 1), String(max + 1), '2d', 'x'])('refuses %j', (raw) => {
      expect(parseEnv({ [name]: raw })).toEqual({ ok: false, errors: [`${name} must be a whole number between ${min} and ${max}, got "${raw}"`] });
    });
  });

  describe('TELEGRAM_API_ROOT', () => {
    it.each([
      ['https://api.telegram.org', 'https://api.telegram.org'],
      ['http://127.0.0.1:8081/', 'http://127.0.0.1:8081'],
      ['https://bot-api.internal//', 'https://bot-api.internal'],
      ['http://localhost:8081/root/', 'http://localhost:8081/root'],
    ])('reads %j as %j', (raw, value) => {
      expect(configOf(parseEnv({ TELEGRAM_API_ROOT: raw })).telegramApiRoot).toBe(value);
    });

    it.each(['ftp://api.telegram.org', 'api.telegram.org', 'localhost:8081', 'not a url'])('refuses %j', (raw) => {
      expect(parseEnv({ TELEGRAM_API_ROOT: raw })).toEqual({
        ok: false,
        errors: [`TELEGRAM_API_ROOT must be an http:// or https:// URL, got "${raw}"`],
      });
    });
  });

  describe('WEBHOOK_URL and WEBHOOK_SECRET', () => {
    it('uses long polling when both are empty', () => {
      const config = configOf(parseEnv(BOT));
      expect(config).not.toHaveProperty('webhookUrl');
      expect(config).not.toHaveProperty('webhookSecret');
    });

    it('reads an https URL with its secret', () => {
      expect(configOf(parseEnv({ ...BOT, WEBHOOK_URL: 'https://lookout.fly.dev/hook/', WEBHOOK_SECRET: 'abc' }))).toMatchObject({
        webhookUrl: 'https://lookout.fly.dev/hook',
        webhookSecret: 'abc',
      });
    });

    it.each(['http://lookout.fly.dev/hook', 'ftp://lookout.fly.dev/', 'lookout.fly.dev/hook', 'not a url'])('refuses the non-https URL %j', (raw) => {
      expect(parseEnv({ ...BOT, WEBHOOK_URL: raw, WEBHOOK_SECRET: 'abc' })).toEqual({
        ok: false,
        errors: [`WEBHOOK_URL must be an https:// URL, got "${raw}"`],
      });
    });

    it('requires WEBHOOK_SECRET with WEBHOOK_URL', () => {
      expect(parseEnv({ ...BOT, WEBHOOK_URL: 'https://lookout.fly.dev/hook' })).toEqual({ ok: false, errors: [SECRET_REQUIRED] });
      expect(parseEnv({ ...BOT, WEBHOOK_URL: 'https://lookout.fly.dev/hook', WEBHOOK_SECRET: '  ' })).toEqual({
        ok: false,
        errors: [SECRET_REQUIRED],
      });
    });

    it.each(['a', 'A-z_0-9', 'x'.repeat(256)])('accepts the secret %j', (secret) => {
      expect(configOf(parseEnv({ WEBHOOK_URL: 'https://x.example/', WEBHOOK_SECRET: secret })).webhookSecret).toBe(secret);
    });

    it.each(['has space', 'sl/ash', 'dot.ted', 'ümlaut', 'x'.repeat(257)])('refuses the secret %j without repeating it', (secret) => {
      const result = parseEnv({ WEBHOOK_URL: 'https://x.example/', WEBHOOK_SECRET: secret });
      expect(result).toEqual({ ok: false, errors: [SECRET_ERROR] });
      expect(JSON.stringify(result)).not.toContain(secret);
    });

    it('accepts a secret without a URL', () => {
      expect(configOf(parseEnv({ WEBHOOK_SECRET: 'abc' }))).toMatchObject({ webhookSecret: 'abc' });
    });
  });

  describe('LOG_LEVEL', () => {
    it.each([
      ['fatal', 'fatal'],
      ['error', 'error'],
      ['warn', 'warn'],
      ['info', 'info'],
      ['debug', 'debug'],
      ['trace', 'trace'],
      ['silent', 'silent'],
      ['WARN', 'warn'],
      [' Debug ', 'debug'],
    ])('reads %j as %j', (raw, level) => {
      expect(configOf(parseEnv({ LOG_LEVEL: raw })).logLevel).toBe(level);
    });

    it.each(['verbose', 'warning', 'off', '3'])('refuses %j', (raw) => {
      expect(parseEnv({ LOG_LEVEL: raw })).toEqual({
        ok: false,
        errors: [`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${raw}"`],
      });
    });
  });

  describe('ALLOW_METADATA_TARGETS', () => {
    it.each([
      ['1', true],
      ['true', true],
      ['TRUE', true],
      ['yes', true],
      ['on', true],
      [' True ', true],
      ['0', false],
      ['false', false],
      ['no', false],
      ['OFF', false],
    ])('reads %j as %s', (raw, value) => {
      expect(configOf(parseEnv({ ALLOW_METADATA_TARGETS: raw })).allowMetadataTargets).toBe(value);
    });

    it.each(['maybe', 'y', '2', 'enabled'])('refuses %j', (raw) => {
      expect(parseEnv({ ALLOW_METADATA_TARGETS: raw })).toEqual({
        ok: false,
        errors: [`ALLOW_METADATA_TARGETS must be true or false, got "${raw}"`],
      });
    });
  });

  describe.each<[string, keyof Config, string]>([
    ['DATA_DIR', 'dataDir', '/var/lib/lookout'],
    ['SOURCE_LABEL', 'sourceLabel', 'fly-fra'],
    ['TARGETS_FILE', 'targetsFile', '/etc/lookout/targets.yaml'],
    ['STATUS_TOKEN', 'statusToken', 'read-only-token'],
  ])('%s', (name, field, value) => {
    it('is read as given, trimmed', () => {
      expect(configOf(parseEnv({ [name]: ` ${value} ` }))[field]).toBe(value);
    });
  });

  it('leaves targetsFile and statusToken out when unset', () => {
    const config = configOf(parseEnv({}));
    expect(config).not.toHaveProperty('targetsFile');
    expect(config).not.toHaveProperty('statusToken');
  });
});

describe('loadConfig', () => {
  it('returns the config when every setting is valid', () => {
    expect(loadConfig({ ...BOT, HTTP_PORT: '9090' })).toStrictEqual({
      ...DEFAULTS,
      botToken: TOKEN,
      allowedChatIds: [-1001234567890],
      httpPort: 9090,
      publicUrl: `http://${hostname()}:9090`,
    });
  });

  it('throws one ConfigError listing every bad variable, one per line', () => {
    const badToken = '123456789:this-token-is-too-short';
    const env: Env = {
      BOT_TOKEN: badToken,
      ALLOWED_CHAT_IDS: 'general',
      ADMIN_USER_IDS: '7,me',
      TELEGRAM_API_ROOT: 'ftp://api',
      WEBHOOK_URL: 'http://lookout.fly.dev/hook',
      WEBHOOK_SECRET: 'bad secret',
      LOG_LEVEL: 'loud',
      HTTP_PORT: '99999',
      CHECK_CONCURRENCY: '0',
      ALLOW_METADATA_TARGETS: 'maybe',
    };
    const problems = [
      TOKEN_ERROR,
      IDS_ERROR('ALLOWED_CHAT_IDS', '"general"'),
      IDS_ERROR('ADMIN_USER_IDS', '"me"'),
      'TELEGRAM_API_ROOT must be an http:// or https:// URL, got "ftp://api"',
      'WEBHOOK_URL must be an https:// URL, got "http://lookout.fly.dev/hook"',
      SECRET_ERROR,
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'HTTP_PORT must be a whole number between 0 and 65535, got "99999"',
      'CHECK_CONCURRENCY must be a whole number between 1 and 10000, got "0"',
      'ALLOW_METADATA_TARGETS must be true or false, got "maybe"',
    ];
    expect(parseEnv(env)).toEqual({ ok: false, errors: problems });

    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toBeInstanceOf(Error);
    const error = thrown as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual(problems);
    expect(error.message).toBe(['invalid settings:', ...problems.map((p) => `  - ${p}`)].join('\n'));
    expect(error.message.split('\n')).toHaveLength(problems.length + 1);
    expect(error.message).not.toContain(badToken);
    expect(error.message).not.toContain('bad secret');
  });

  it('reports a missing ALLOWED_CHAT_IDS together with the other problems', () => {
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, HTTP_PORT: 'x' })).toThrow(
      new ConfigError([ALLOWED_REQUIRED, 'HTTP_PORT must be a whole number between 0 and 65535, got "x"']),
    );
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, HTTP_PORT: 'x' })).toThrow(
      `invalid settings:\n  - ${ALLOWED_REQUIRED}\n  - HTTP_PORT must be a whole number between 0 and 65535, got "x"`,
    );
  });
});

describe('parseEnv: TRACE_* settings', () => {
  const TRACE_DEFAULTS: Config['trace'] = { binary: 'mtr', cycles: 5, intervalS: 1, gracePeriodS: 1, maxHops: 30, timeoutMs: 60_000, mode: 'auto' };
  const TRACE_NAMES = ['MTR_PATH', 'TRACE_CYCLES', 'TRACE_INTERVAL', 'TRACE_MAX_HOPS', 'TRACE_TIMEOUT', 'TRACE_MODE'];
  const traceOf = (env: Env): Config['trace'] => configOf(parseEnv(env)).trace;
  const DURATION_ERROR = (name: string, min: string, max: string, got: string): string =>
    `${name} must be a duration between ${min} and ${max} (like 1s or 500ms), got "${got}"`;
  const WHOLE_ERROR = (name: string, min: number, max: number, got: string): string =>
    `${name} must be a whole number between ${min} and ${max}, got "${got}"`;

  it('defaults to mtr on PATH, 5 cycles of 1 s, 30 hops, 60 s and auto mode (safe for a non-root user)', () => {
    expect(traceOf({})).toStrictEqual(TRACE_DEFAULTS);
  });

  it.each(['', ' ', undefined])('treats every TRACE_* variable set to %j as unset', (blank) => {
    expect(traceOf(Object.fromEntries(TRACE_NAMES.map((n) => [n, blank])))).toStrictEqual(TRACE_DEFAULTS);
  });

  it('reads every TRACE_* variable when all are set', () => {
    const env: Env = {
      MTR_PATH: ' /usr/sbin/mtr ',
      TRACE_CYCLES: '10',
      TRACE_INTERVAL: '0.5',
      TRACE_MAX_HOPS: '20',
      TRACE_TIMEOUT: '2m',
      TRACE_MODE: ' TCP ',
    };
    expect(traceOf(env)).toStrictEqual({ binary: '/usr/sbin/mtr', cycles: 10, intervalS: 0.5, gracePeriodS: 1, maxHops: 20, timeoutMs: 120_000, mode: 'tcp' });
  });

  it.each(['icmp', 'tcp', 'auto', 'ICMP', 'Auto'])('accepts TRACE_MODE=%s', (mode) => {
    expect(traceOf({ TRACE_MODE: mode }).mode).toBe(mode.toLowerCase());
  });

  it.each([
    ['500ms', 0.5, 1],
    ['0.5', 0.5, 1],
    ['100ms', 0.1, 0.2],
    ['0.1', 0.1, 0.2],
    ['0.25', 0.25, 0.5],
    ['1', 1, 1],
    ['2s', 2, 1],
    ['10', 10, 1],
    ['10s', 10, 1],
  ])('reads TRACE_INTERVAL=%s as %d s, with a grace period of %d s', (raw, intervalS, gracePeriodS) => {
    expect(traceOf({ TRACE_INTERVAL: raw })).toMatchObject({ intervalS, gracePeriodS });
  });

  it.each([
    ['90', 90_000],
    ['1', 1_000],
    ['1s', 1_000],
    ['1500ms', 1_500],
    ['10m', 600_000],
    ['600', 600_000],
  ])('reads TRACE_TIMEOUT=%s as %i ms', (raw, timeoutMs) => {
    expect(traceOf({ TRACE_TIMEOUT: raw }).timeoutMs).toBe(timeoutMs);
  });

  it.each([
    ['1', 1],
    ['100', 100],
  ])('reads TRACE_CYCLES=%s', (raw, cycles) => {
    expect(traceOf({ TRACE_CYCLES: raw }).cycles).toBe(cycles);
  });

  it.each([
    ['1', 1],
    ['64', 64],
  ])('reads TRACE_MAX_HOPS=%s', (raw, maxHops) => {
    expect(traceOf({ TRACE_MAX_HOPS: raw }).maxHops).toBe(maxHops);
  });

  it.each<[string, string, string]>([
    ['TRACE_MODE', 'udp', 'TRACE_MODE must be icmp, tcp or auto, got "udp"'],
    ['TRACE_MODE', 'icmp,tcp', 'TRACE_MODE must be icmp, tcp or auto, got "icmp,tcp"'],
    ['TRACE_CYCLES', '0', WHOLE_ERROR('TRACE_CYCLES', 1, 100, '0')],
    ['TRACE_CYCLES', '101', WHOLE_ERROR('TRACE_CYCLES', 1, 100, '101')],
    ['TRACE_CYCLES', '2.5', WHOLE_ERROR('TRACE_CYCLES', 1, 100, '2.5')],
    ['TRACE_CYCLES', '-1', WHOLE_ERROR('TRACE_CYCLES', 1, 100, '-1')],
    ['TRACE_CYCLES', 'five', WHOLE_ERROR('TRACE_CYCLES', 1, 100, 'five')],
    ['TRACE_MAX_HOPS', '0', WHOLE_ERROR('TRACE_MAX_HOPS', 1, 64, '0')],
    ['TRACE_MAX_HOPS', '65', WHOLE_ERROR('TRACE_MAX_HOPS', 1, 64, '65')],
    ['TRACE_INTERVAL', '0.01', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '0.01')],
    ['TRACE_INTERVAL', '50ms', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '50ms')],
    ['TRACE_INTERVAL', '0', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '0')],
    ['TRACE_INTERVAL', '11', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '11')],
    ['TRACE_INTERVAL', '-1', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '-1')],
    ['TRACE_INTERVAL', '.5', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '.5')],
    ['TRACE_INTERVAL', 'soon', DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', 'soon')],
    ['TRACE_TIMEOUT', '1h', DURATION_ERROR('TRACE_TIMEOUT', '1s', '600s', '1h')],
    ['TRACE_TIMEOUT', '601', DURATION_ERROR('TRACE_TIMEOUT', '1s', '600s', '601')],
    ['TRACE_TIMEOUT', '500ms', DURATION_ERROR('TRACE_TIMEOUT', '1s', '600s', '500ms')],
    ['TRACE_TIMEOUT', '0', DURATION_ERROR('TRACE_TIMEOUT', '1s', '600s', '0')],
  ])('refuses %s=%j', (name, raw, error) => {
    expect(parseEnv({ [name]: raw })).toEqual({ ok: false, errors: [error] });
  });

  it('lists every bad TRACE_* variable at once', () => {
    const env: Env = { TRACE_MODE: 'udp', TRACE_CYCLES: '0', TRACE_INTERVAL: '0.01', TRACE_TIMEOUT: '1h', TRACE_MAX_HOPS: '99' };
    const result = parseEnv(env);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect([...result.errors].sort()).toEqual(
        [
          'TRACE_MODE must be icmp, tcp or auto, got "udp"',
          WHOLE_ERROR('TRACE_CYCLES', 1, 100, '0'),
          DURATION_ERROR('TRACE_INTERVAL', '0.1s', '10s', '0.01'),
          DURATION_ERROR('TRACE_TIMEOUT', '1s', '600s', '1h'),
          WHOLE_ERROR('TRACE_MAX_HOPS', 1, 64, '99'),
        ].sort(),
      );
    }
  });

  it('throws a ConfigError from loadConfig for a bad TRACE_* variable', () => {
    expect(() => loadConfig({ TRACE_MODE: 'udp' })).toThrow(new ConfigError(['TRACE_MODE must be icmp, tcp or auto, got "udp"']));
  });
});

describe('DATABASE_URL', () => {
  it('takes a postgres:// or postgresql:// URL, and counts it and its password as secrets', () => {
    for (const url of ['postgres://lookout:pa55word-x@db:5432/lookout', 'postgresql://lookout:pa55word-x@db/lookout?sslmode=require']) {
      const parsed = parseEnv({ DATABASE_URL: url });
      if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
      expect(parsed.config.databaseUrl).toBe(url);
      expect(secretsOf(parsed.config)).toEqual(expect.arrayContaining([url, 'pa55word-x']));
    }
    const none = parseEnv({});
    expect(none.ok && none.config.databaseUrl).toBeUndefined();
  });

  it('refuses another scheme without quoting the value (it holds a password)', () => {
    const parsed = parseEnv({ DATABASE_URL: 'mysql://lookout:pa55word-x@db/lookout' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual(['DATABASE_URL must be a postgres:// or postgresql:// URL']);
    expect(parsed.errors.join()).not.toContain('pa55word');
  });
});

describe('LOCATION', () => {
  it('is checked on a shared database, where it names the place the instance checks from', () => {
    const parsed = parseEnv({ DATABASE_URL: 'postgres://lookout@db/lookout', LOCATION: 'Frankfurt' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual(['LOCATION must be a short name: a-z, 0-9 and -, up to 32 (like fra or us-east-1)']);
  });

  it('does not keep a single instance from starting: a value it cannot use gives way to the host name', () => {
    const parsed = parseEnv({ LOCATION: 'Frankfurt' });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.config.location).toBe(defaultLocation(hostname()));
    const good = parseEnv({ LOCATION: 'fra' });
    expect(good.ok && good.config.location).toBe('fra');
  });
});

describe('SENTRY_DSN', () => {
  it.each([
    'https://0123456789abcdef0123456789abcdef@o450000.ingest.us.sentry.io/4500000000000',
    'http://publickey@127.0.0.1:9000/42',
    'https://key:legacysecret@sentry.example.com/sentry/7',
    'https://key@[::1]:9000/1',
  ])('accepts %s, and keeps it out of the logs', (dsn) => {
    const parsed = parseEnv({ SENTRY_DSN: dsn });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.config.sentry).toEqual({ dsn, environment: 'production' });
    expect(secretsOf(parsed.config)).toContain(dsn);
  });

  it.each([
    'ftp://key@sentry.example.com/42',
    'https://sentry.example.com/42',
    'https://@sentry.example.com/42',
    'https://s3cretkey@sentry.example.com/',
    'https://s3cretkey@sentry.example.com/project',
    'https://s3cretkey@sentry.example.com/42/',
    'https://s3cretkey@sentry.example.com/42?x=1',
    's3cretkey@sentry.example.com/42',
  ])('refuses %s without quoting it (it holds a key)', (dsn) => {
    const parsed = parseEnv({ SENTRY_DSN: dsn });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual([expect.stringMatching(/^SENTRY_DSN must be a Sentry DSN: an http:\/\/ or https:\/\/ URL with a public key and a numeric project id/)]);
    expect(parsed.errors.join()).not.toContain('s3cretkey');
  });

  it('SENTRY_ENVIRONMENT: production unless set; no spaces or "/", 64 characters at most', () => {
    expect(configOf(parseEnv({ SENTRY_ENVIRONMENT: 'eu-staging' })).sentry).toEqual({ environment: 'eu-staging' });
    for (const bad of ['two words', 'a/b', 'x'.repeat(65)]) {
      const parsed = parseEnv({ SENTRY_ENVIRONMENT: bad });
      expect(parsed.ok ? [] : parsed.errors).toEqual([expect.stringContaining('SENTRY_ENVIRONMENT must be 1-64 characters without spaces or "/"')]);
    }
  });
});
