import { describe, expect, it } from 'vitest';
import { parseArgs, type CommandArgs } from '../../src/domain/options.js';
import type { Parsed } from '../../src/domain/result.js';
import { buildTarget, defaultTimeoutMs, editTarget, optionKeys } from '../../src/targets/options.js';
import { formatExpect, nameError, nameFromHost, parseEndpoint, parseExpect, parseHostPort, parseTargetUrl, statusExpected, type StatusRange, type TargetContext } from '../../src/domain/target.js';
import { maskedCredentials, type Ec2Target } from '../../src/kinds/ec2/index.js';
import { targetAddress, traceTarget, type Target } from '../../src/kinds/index.js';
import { type HttpTarget } from '../../src/kinds/http/index.js';
import { type TcpTarget } from '../../src/kinds/tcp/index.js';

const NOW = 1_700_000_000_000;
const CHAT = -1001234567890;
const CTX: TargetContext = { chatId: CHAT, now: NOW };

const HTTP_KEYS = 'name, every, timeout, retry, confirm, recover, note, remind, errorrate, sla, notify, escalate, locations, quorum, method, expect, keyword, maintenance, latency, assert, header';
const TCP_KEYS = 'name, every, timeout, retry, confirm, recover, note, remind, errorrate, sla, notify, escalate, locations, quorum';
const URL_ERROR = (text: string): string =>
  `URL must be an http:// or https:// address like https://api.example.com/health, got "${text}"`;
const CREDENTIALS_ERROR =
  'URL must not contain a user name or password: send credentials with header="Authorization: ..." instead';
const HOST_PORT_ERROR = (text: string): string =>
  `tcp target must be host:port with a port between 1 and 65535, like db.internal:5432, got "${text}"`;
const METADATA_ERROR = (host: string, kind = 'a cloud metadata address'): string =>
  `${host} is ${kind}; Lookout refuses it unless ALLOW_METADATA_TARGETS=true`;
const NAME_ERROR = (name: string): string =>
  `name must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "${name}"`;
const EXPECT_ERROR = (text: string): string =>
  `expect must be status codes or ranges between 100 and 599 like 200-299 or 200,204,301-302, got "${text}"`;
// The raw text is never echoed back: a malformed header is usually a credential.
const HEADER_ERROR = (_shown?: string): string =>
  'header must look like "Name: value" (quote it when the value has spaces, like header="Authorization: Bearer …")';
const HEADER_NAME_ERROR = "header names may hold only letters, digits and !#$%&'*+-.^_`|~ (at most 64 characters), like X-Api-Key";
const ASCII_ONLY = 'header values may hold printable ASCII only (letters, digits, punctuation, spaces)';
const HEADER_CONTROL_ERROR = (name: string): string => `header "${name}" has a control character or a line break in its value: ${ASCII_ONLY}`;
const HEADER_NON_ASCII_ERROR = (name: string): string =>
  `header "${name}" has a character outside ASCII in its value (an emoji or a letter like é): ${ASCII_ONLY}`;
const HEADER_LONG_ERROR = (name: string): string => `header "${name}" has a value longer than 4096 characters`;
const HEADER_CONTROLLED_ERROR = (name: string, why: string): string => `header "${name}" cannot be set: ${why}`;
const LATENCY_ERROR = (text: string): string =>
  `latency must be a threshold in milliseconds between 1 and 300000 (like 800 or 2s), or 0 for none, got "${text}"`;

/** Command text as the bot would receive it after `/add` or `/edit <name>`. */
function args(text: string): CommandArgs {
  const parsed = parseArgs(text);
  if (!parsed.ok) throw new Error(`test input does not tokenize: ${parsed.errors.join('; ')}`);
  return parsed.value;
}

function valueOf<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected a valid result, got: ${parsed.errors.join(' | ')}`);
  return parsed.value;
}

function errorsOf(parsed: Parsed<unknown>): string[] {
  if (parsed.ok) throw new Error(`expected errors, got ${JSON.stringify(parsed.value)}`);
  return parsed.errors;
}

const build = (text: string, ctx: TargetContext = CTX): Parsed<Target> => buildTarget(args(text), ctx);

function buildHttp(text: string, ctx: TargetContext = CTX): HttpTarget {
  const target = valueOf(build(text, ctx));
  if (target.kind !== 'http') throw new Error(`expected an http target, got ${target.kind}`);
  return target;
}

function buildTcp(text: string, ctx: TargetContext = CTX): TcpTarget {
  const target = valueOf(build(text, ctx));
  if (target.kind !== 'tcp') throw new Error(`expected a tcp target, got ${target.kind}`);
  return target;
}

const headerArgs = (count: number, prefix = 'X-H'): string =>
  Array.from({ length: count }, (_, i) => `header="${prefix}${i}: v${i}"`).join(' ');

describe('nameError', () => {
  it.each(['a', '0', 'api', 'api-example-com', 'a_b-c', '0-db_x', 'x'.repeat(32)])('accepts %j', (name) => {
    expect(nameError(name)).toBeUndefined();
  });

  it.each(['', 'A', 'Api', '-a', '_a', 'a b', 'a.b', 'a/b', 'é', 'x'.repeat(33)])('refuses %j', (name) => {
    expect(nameError(name)).toBe(NAME_ERROR(name));
  });
});

describe('nameFromHost', () => {
  it.each([
    ['api.example.com', 'api-example-com'],
    ['API.Example.COM', 'api-example-com'],
    ['10.0.0.5', '10-0-0-5'],
    ['[::1]', '1'],
    ['::1', '1'],
    ['[fd00::1]', 'fd00-1'],
    ['my_host.local', 'my_host-local'],
    ['-x-', 'x'],
    ['___', 'target'],
    ['', 'target'],
    ['a'.repeat(40), 'a'.repeat(32)],
    ['abcdefghijklmnopqrstuvwxyz01234.example', 'abcdefghijklmnopqrstuvwxyz01234'],
  ])('makes %j into %j', (host, name) => {
    expect(nameFromHost(host)).toBe(name);
    expect(nameError(nameFromHost(host))).toBeUndefined();
  });
});

describe('parseExpect', () => {
  it.each<[string, StatusRange[]]>([
    ['200-299', [{ from: 200, to: 299 }]],
    ['200', [{ from: 200, to: 200 }]],
    ['599', [{ from: 599, to: 599 }]],
    ['100-599', [{ from: 100, to: 599 }]],
    [
      '200,204,301-302',
      [
        { from: 200, to: 200 },
        { from: 204, to: 204 },
        { from: 301, to: 302 },
      ],
    ],
    [
      ' 200 - 204 , 500 ',
      [
        { from: 200, to: 204 },
        { from: 500, to: 500 },
      ],
    ],
  ])('parses %j', (text, ranges) => {
    expect(parseExpect(text)).toEqual({ ok: true, value: ranges });
  });

  it.each(['', '99', '099', '600', '100-600', '300-200', '200-', '-200', '2xx', '200,', ',200', '200;204', '1000', '200-299-300'])(
    'refuses %j',
    (text) => {
      expect(parseExpect(text)).toEqual({ ok: false, errors: [EXPECT_ERROR(text)] });
    },
  );
});

describe('formatExpect', () => {
  it.each<[StatusRange[], string]>([
    [[], ''],
    [[{ from: 200, to: 299 }], '200-299'],
    [[{ from: 204, to: 204 }], '204'],
    [
      [
        { from: 200, to: 200 },
        { from: 204, to: 204 },
        { from: 301, to: 302 },
      ],
      '200,204,301-302',
    ],
  ])('formats %j as %j', (ranges, text) => {
    expect(formatExpect(ranges)).toBe(text);
  });

  it.each(['200-299', '200', '200,204,301-302', '100-199,400-599'])('is the inverse of parseExpect for %j', (text) => {
    expect(formatExpect(valueOf(parseExpect(text)))).toBe(text);
  });
});

describe('statusExpected', () => {
  const ranges = valueOf(parseExpect('200-299,304,400-401'));
  it.each([
    [199, false],
    [200, true],
    [250, true],
    [299, true],
    [300, false],
    [303, false],
    [304, true],
    [305, false],
    [400, true],
    [401, true],
    [402, false],
    [503, false],
  ])('status %i expected: %s', (status, expected) => {
    expect(statusExpected(ranges, status)).toBe(expected);
  });

  it('expects nothing from an empty set', () => {
    expect(statusExpected([], 200)).toBe(false);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['db.internal:5432', 'db.internal', 5432],
    ['DB.Internal:1', 'db.internal', 1],
    ['localhost:6379', 'localhost', 6379],
    ['10.0.0.5:65535', '10.0.0.5', 65535],
    ['[::1]:443', '::1', 443],
    ['[2001:DB8::1]:22', '2001:db8::1', 22],
    ['[::ffff:10.0.0.1]:80', '::ffff:10.0.0.1', 80],
  ])('parses %j', (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ ok: true, value: { host, port } });
  });

  it.each([
    'db.internal',
    'db.internal:',
    'db.internal:0',
    'db.internal:65536',
    'db.internal:123456',
    'db.internal:80x',
    ':80',
    '::1:443',
    '[::1]',
    '[::1]:',
    '[db.internal]:80',
    '[1.2.3.4]:80',
    '[::1::2]:80',
    'bad_host:80',
    '-bad.example:80',
    'db internal:80',
    'https://db.internal:80',
    '',
  ])('refuses %j', (text) => {
    expect(parseHostPort(text)).toEqual({ ok: false, errors: [HOST_PORT_ERROR(text)] });
  });

  it.each([
    ['169.254.169.254:80', '169.254.169.254'],
    ['[fd00:ec2::254]:80', 'fd00:ec2::254'],
    ['[FD00:EC2::254]:80', 'fd00:ec2::254'],
    // Other spellings of the same addresses that the resolver or the socket accepts.
    ['[fd00:ec2:0:0:0:0:0:254]:80', 'fd00:ec2::254'],
    ['169.254.169.254.:80', '169.254.169.254'],
    ['2852039166:80', '169.254.169.254'],
    ['0xa9fea9fe:80', '169.254.169.254'],
    ['169.254.43518:80', '169.254.169.254'],
    ['[::ffff:169.254.169.254]:80', '::ffff:a9fe:a9fe (169.254.169.254)'],
  ])('refuses the metadata address %j unless allowed', (text, shown) => {
    expect(parseHostPort(text)).toEqual({ ok: false, errors: [METADATA_ERROR(shown)] });
    expect(parseHostPort(text, true).ok).toBe(true);
  });
});

describe('parseTargetUrl', () => {
  it.each([
    ['https://api.example.com/health', 'https://api.example.com/health'],
    ['http://API.Example.com:8080/x?y=1', 'http://api.example.com:8080/x?y=1'],
    ['http://[::1]:8080/', 'http://[::1]:8080/'],
    ['https://10.0.0.5', 'https://10.0.0.5/'],
  ])('accepts %j', (text, href) => {
    expect(valueOf(parseTargetUrl(text)).href).toBe(href);
  });

  it.each(['ftp://files.example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'api.example.com/health', 'https://', 'not a url', ''])(
    'refuses the non-http URL %j',
    (text) => {
      expect(parseTargetUrl(text)).toEqual({ ok: false, errors: [URL_ERROR(text)] });
    },
  );

  it.each(['https://user:pa55@api.example.com/', 'https://user@api.example.com/', 'https://:pa55@api.example.com/'])(
    'refuses credentials in %j without repeating them',
    (text) => {
      expect(parseTargetUrl(text)).toEqual({ ok: false, errors: [CREDENTIALS_ERROR] });
    },
  );

  it('refuses a URL longer than 2048 characters', () => {
    const base = 'https://api.example.com/';
    expect(parseTargetUrl(base + 'a'.repeat(2048 - base.length)).ok).toBe(true);
    expect(parseTargetUrl(base + 'a'.repeat(2049 - base.length))).toEqual({
      ok: false,
      errors: ['URL must be at most 2048 characters, got 2049'],
    });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254'],
    ['http://[fd00:ec2:0::254]/', 'fd00:ec2::254'],
    ['http://2852039166/', '169.254.169.254'],
    ['http://169.254.169.254./', '169.254.169.254'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe (169.254.169.254)'],
  ])('refuses the metadata address in %j unless allowed', (text, shown) => {
    expect(parseTargetUrl(text)).toEqual({ ok: false, errors: [METADATA_ERROR(shown)] });
    expect(parseTargetUrl(text, true).ok).toBe(true);
  });
});

describe('targetAddress', () => {
  it.each([
    ['https://api.example.com/health', 'https://api.example.com/health'],
    ['tcp db.internal:5432', 'db.internal:5432'],
    ['tcp [::1]:443', '[::1]:443'],
    ['tcp [2001:db8::1]:22', '[2001:db8::1]:22'],
  ])('shows %j as %j', (command, address) => {
    expect(targetAddress(valueOf(build(command)))).toBe(address);
  });
});

describe('buildTarget', () => {
  describe('defaults', () => {
    it('builds an http target with every default of product.md', () => {
      expect(build('https://api.example.com/health')).toStrictEqual({
        ok: true,
        value: {
          id: `${CHAT}/api-example-com`,
          chatId: CHAT,
          name: 'api-example-com',
          everyMs: 60_000,
          timeoutMs: 10_000,
          retryMs: 5_000,
          confirm: 2,
          recover: 1,
          paused: false,
          createdAt: NOW,
          updatedAt: NOW,
          kind: 'http',
          url: 'https://api.example.com/health',
          method: 'GET',
          expect: [{ from: 200, to: 299 }],
          headers: [],
        },
      });
    });

    it('builds a tcp target with every default of product.md', () => {
      expect(build('tcp db.internal:5432')).toStrictEqual({
        ok: true,
        value: {
          id: `${CHAT}/db-internal`,
          chatId: CHAT,
          name: 'db-internal',
          everyMs: 60_000,
          timeoutMs: 10_000,
          retryMs: 5_000,
          confirm: 2,
          recover: 1,
          paused: false,
          createdAt: NOW,
          updatedAt: NOW,
          kind: 'tcp',
          host: 'db.internal',
          port: 5432,
        },
      });
    });

    it('keeps the forum topic it was added in', () => {
      expect(valueOf(build('https://api.example.com/', { ...CTX, threadId: 42 })).threadId).toBe(42);
      expect(valueOf(build('https://api.example.com/'))).not.toHaveProperty('threadId');
    });

    it.each(['http https://api.example.com/', 'HTTP https://api.example.com/'])('accepts the explicit kind in %j', (command) => {
      expect(buildHttp(command).url).toBe('https://api.example.com/');
    });

    it.each(['tcp db.internal:5432', 'TCP db.internal:5432'])('accepts the tcp kind in %j', (command) => {
      expect(buildTcp(command).port).toBe(5432);
    });
  });

  describe('name derived from the host', () => {
    it.each([
      ['https://api.example.com/health', 'api-example-com'],
      ['https://API.Example.com/', 'api-example-com'],
      ['http://10.0.0.5:8080/', '10-0-0-5'],
      ['http://[::1]:8080/', '1'],
      ['https://a-very-long-subdomain-name.of-some-service.example.com/', 'a-very-long-subdomain-name-of-so'],
      ['tcp db.internal:5432', 'db-internal'],
      ['tcp [::1]:443', '1'],
      ['https://api.example.com/ name=my-api', 'my-api'],
    ])('%j is called %j', (command, name) => {
      const target = valueOf(build(command));
      expect(target.name).toBe(name);
      expect(target.id).toBe(`${CHAT}/${name}`);
    });
  });

  describe('valid options', () => {
    it.each<[string, Partial<HttpTarget>]>([
      ['name=api', { name: 'api', id: `${CHAT}/api` }],
      ['name=0-db_x', { name: '0-db_x' }],
      [`name=${'n'.repeat(32)}`, { name: 'n'.repeat(32) }],
      ['every=30s', { everyMs: 30_000 }],
      ['interval=30s', { everyMs: 30_000 }],
      ['INTERVAL=2m', { everyMs: 120_000 }],
      ['every=10s timeout=9s', { everyMs: 10_000, timeoutMs: 9_000 }],
      ['every=1d', { everyMs: 86_400_000 }],
      ['every=1h30m', { everyMs: 5_400_000 }],
      ['timeout=1s', { timeoutMs: 1_000 }],
      ['timeout=59s', { timeoutMs: 59_000 }],
      ['timeout=5m every=10m', { timeoutMs: 300_000, everyMs: 600_000 }],
      ['retry=1s', { retryMs: 1_000 }],
      ['retry=1m', { retryMs: 60_000 }],
      ['retry=1d every=1d', { retryMs: 86_400_000 }],
      ['confirm=1', { confirm: 1 }],
      ['confirm=10', { confirm: 10 }],
      ['recover=1', { recover: 1 }],
      ['recover=10', { recover: 10 }],
      ['note="Runbook: https://wiki.example/api, call Ana"', { note: 'Runbook: https://wiki.example/api, call Ana' }],
      [`note="${'n'.repeat(500)}"`, { note: 'n'.repeat(500) }],
      ['method=post', { method: 'POST' }],
      ['method=GET', { method: 'GET' }],
      ['method=head', { method: 'HEAD' }],
      ['method=Put', { method: 'PUT' }],
      ['method=patch', { method: 'PATCH' }],
      ['method=delete', { method: 'DELETE' }],
      ['method=options', { method: 'OPTIONS' }],
      ['expect=200', { expect: [{ from: 200, to: 200 }] }],
      [
        'expect=200,204,301-302',
        {
          expect: [
            { from: 200, to: 200 },
            { from: 204, to: 204 },
            { from: 301, to: 302 },
          ],
        },
      ],
      ['keyword="Service OK"', { keyword: 'Service OK' }],
      [`keyword="${'k'.repeat(200)}"`, { keyword: 'k'.repeat(200) }],
      ['latency=800', { latencyMs: 800 }],
      ['latency=1', { latencyMs: 1 }],
      ['latency=2s', { latencyMs: 2_000 }],
      ['latency=300000', { latencyMs: 300_000 }],
      ['latency=5m', { latencyMs: 300_000 }],
      ['header="X-Api-Key: abc123"', { headers: [{ name: 'X-Api-Key', value: 'abc123' }] }],
      ['header="Authorization: Bearer a b"', { headers: [{ name: 'Authorization', value: 'Bearer a b' }] }],
      ['header=X-Flag:1', { headers: [{ name: 'X-Flag', value: '1' }] }],
      ['header="X-Url: https://a.example/x:y"', { headers: [{ name: 'X-Url', value: 'https://a.example/x:y' }] }],
    ])('applies %j', (options, fields) => {
      expect(buildHttp(`https://api.example.com/ ${options}`)).toMatchObject(fields);
    });

    it.each(['note=""', 'note="   "', 'keyword=""', 'latency=0', 'latency=off'])('leaves the optional field out for %j', (options) => {
      const target = buildHttp(`https://api.example.com/ ${options}`);
      expect(target).not.toHaveProperty('note');
      expect(target).not.toHaveProperty('keyword');
      expect(target).not.toHaveProperty('latencyMs');
    });

    it.each<[string, Partial<TcpTarget>]>([
      ['name=db', { name: 'db' }],
      ['every=30s', { everyMs: 30_000 }],
      ['interval=30s', { everyMs: 30_000 }],
      ['timeout=2s', { timeoutMs: 2_000 }],
      ['retry=3s', { retryMs: 3_000 }],
      ['confirm=3', { confirm: 3 }],
      ['recover=2', { recover: 2 }],
      ['note=primary', { note: 'primary' }],
    ])('applies %j to a tcp target', (options, fields) => {
      expect(buildTcp(`tcp db.internal:5432 ${options}`)).toMatchObject(fields);
    });
  });

  describe('invalid options', () => {
    it.each([
      ['name=Api', NAME_ERROR('Api')],
      ['name=-x', NAME_ERROR('-x')],
      ['name=_x', NAME_ERROR('_x')],
      ['name=', NAME_ERROR('')],
      ['name="a b"', NAME_ERROR('a b')],
      [`name=${'n'.repeat(33)}`, NAME_ERROR('n'.repeat(33))],
      ['every=9s', 'every must be between 10s and 1d, got "9s"'],
      ['every=2d', 'every must be between 10s and 1d, got "2d"'],
      ['interval=5s', 'interval must be between 10s and 1d, got "5s"'],
      ['every=30', 'every must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "30"'],
      ['every=', 'every must be a duration like 30s, 5m, 2h, 1d or 1h30m, got ""'],
      ['timeout=500ms', 'timeout must be between 1s and 5m, got "500ms"'],
      ['timeout=6m', 'timeout must be between 1s and 5m, got "6m"'],
      ['timeout=fast', 'timeout must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "fast"'],
      ['retry=999ms', 'retry must be between 1s and 1d, got "999ms"'],
      ['retry=2d', 'retry must be between 1s and 1d, got "2d"'],
      ['retry=soon', 'retry must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "soon"'],
      ['confirm=0', 'confirm must be a whole number between 1 and 10, got "0"'],
      ['confirm=11', 'confirm must be a whole number between 1 and 10, got "11"'],
      ['confirm=1.5', 'confirm must be a whole number between 1 and 10, got "1.5"'],
      ['confirm=-1', 'confirm must be a whole number between 1 and 10, got "-1"'],
      ['confirm=two', 'confirm must be a whole number between 1 and 10, got "two"'],
      ['confirm=', 'confirm must be a whole number between 1 and 10, got ""'],
      ['recover=0', 'recover must be a whole number between 1 and 10, got "0"'],
      ['recover=11', 'recover must be a whole number between 1 and 10, got "11"'],
      [`note="${'n'.repeat(501)}"`, 'note must be at most 500 characters, got 501'],
      ['method=FETCH', 'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"'],
      ['method=', 'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got ""'],
      ['expect=99', EXPECT_ERROR('99')],
      ['expect=600', EXPECT_ERROR('600')],
      ['expect=300-200', EXPECT_ERROR('300-200')],
      ['expect=2xx', EXPECT_ERROR('2xx')],
      ['expect=', EXPECT_ERROR('')],
      [`keyword="${'k'.repeat(201)}"`, 'keyword must be at most 200 characters, got 201'],
      ['latency=abc', LATENCY_ERROR('abc')],
      ['latency=0ms', LATENCY_ERROR('0ms')],
      ['latency=300001', LATENCY_ERROR('300001')],
      ['latency=6m', LATENCY_ERROR('6m')],
      ['latency=-5', LATENCY_ERROR('-5')],
      ['latency=', LATENCY_ERROR('')],
      ['header=NoColon', HEADER_ERROR('NoColon')],
      ['header=": value"', HEADER_ERROR(': value')],
      ['header="Bad Name: value"', HEADER_NAME_ERROR],
      ['header="X-Multi: a\nb"', HEADER_CONTROL_ERROR('X-Multi')],
      [`header="X-Long: ${'v'.repeat(4097)}"`, HEADER_LONG_ERROR('X-Long')],
      ['foo=1', `unknown option "foo" for a http target; expected one of ${HTTP_KEYS}`],
      ['host=db.internal:5432', `unknown option "host" for a http target; expected one of ${HTTP_KEYS}`],
      ['region=eu-west-1', `unknown option "region" for a http target; expected one of ${HTTP_KEYS}`],
    ])('refuses %j', (options, error) => {
      expect(build(`https://api.example.com/ ${options}`)).toEqual({ ok: false, errors: [error] });
    });

    it('never repeats a header value in its error', () => {
      const errors = errorsOf(build('https://api.example.com/ header="Bad Name: s3cr3t-value"'));
      expect(errors.join('\n')).not.toContain('s3cr3t');
    });

    it.each([
      ['method=POST', `unknown option "method" for a tcp target; expected one of ${TCP_KEYS}`],
      ['header="A: b"', `unknown option "header" for a tcp target; expected one of ${TCP_KEYS}`],
      ['url=https://a.example/', `unknown option "url" for a tcp target; expected one of ${TCP_KEYS}`],
      ['every=1s', 'every must be between 10s and 1d, got "1s"'],
      ['confirm=0', 'confirm must be a whole number between 1 and 10, got "0"'],
    ])('refuses %j for a tcp target', (options, error) => {
      expect(build(`tcp db.internal:5432 ${options}`)).toEqual({ ok: false, errors: [error] });
    });
  });

  describe('duplicate options', () => {
    it.each([
      ['every=30s every=1m', 'option "every" is given twice'],
      ['every=30s interval=1m', 'option "interval" is given twice'],
      ['interval=30s every=1m', 'option "every" is given twice'],
      ['name=a name=b', 'option "name" is given twice'],
      ['Name=a name=b', 'option "name" is given twice'],
      ['keyword=a keyword=b', 'option "keyword" is given twice'],
      ['latency=0 latency=800', 'option "latency" is given twice'],
    ])('refuses %j', (options, error) => {
      expect(build(`https://api.example.com/ ${options}`)).toEqual({ ok: false, errors: [error] });
    });

    it('reports a duplicate even when the first value was refused', () => {
      expect(errorsOf(build('https://api.example.com/ every=1s every=1m'))).toEqual([
        'every must be between 10s and 1d, got "1s"',
        'option "every" is given twice',
      ]);
    });
  });

  describe('headers', () => {
    it.each([
      ['an emoji', 'header="X-E: 🔥"', HEADER_NON_ASCII_ERROR('X-E')],
      ['a letter with an accent', 'header="X-E: café"', HEADER_NON_ASCII_ERROR('X-E')],
      ['Latin-1 obs-text', 'header="X-E: \u00ff"', HEADER_NON_ASCII_ERROR('X-E')],
      ['a line feed', 'header="X-E: a\nX-Other: b"', HEADER_CONTROL_ERROR('X-E')],
      ['a carriage return', 'header="X-E: a\rb"', HEADER_CONTROL_ERROR('X-E')],
      ['a trailing line feed', 'header="X-E: ab\n"', HEADER_CONTROL_ERROR('X-E')],
      ['a NUL', 'header="X-E: a\u0000b"', HEADER_CONTROL_ERROR('X-E')],
      ['an escape', 'header="X-E: a\u001bb"', HEADER_CONTROL_ERROR('X-E')],
      ['DEL', 'header="X-E: a\u007fb"', HEADER_CONTROL_ERROR('X-E')],
      ['a colon in the name', 'header="X:Y: v"', 'keeps'],
      ['a space in the name', 'header="X Y: v"', HEADER_NAME_ERROR],
      ['a non-ASCII name', 'header="Ünï: v"', HEADER_NAME_ERROR],
      ['a separator in the name', 'header="X(Y): v"', HEADER_NAME_ERROR],
      ['a name of 65 characters', `header="${'N'.repeat(65)}: v"`, HEADER_NAME_ERROR],
      ['Host', 'header="Host: evil.example"', HEADER_CONTROLLED_ERROR('Host', 'Lookout sets Host from the URL')],
      ['host in lower case', 'header="host: evil.example"', HEADER_CONTROLLED_ERROR('host', 'Lookout sets Host from the URL')],
      ['Content-Length', 'header="Content-Length: 5"', HEADER_CONTROLLED_ERROR('Content-Length', 'Lookout sets Content-Length itself (checks send no body)')],
      ['Transfer-Encoding', 'header="Transfer-Encoding: chunked"', HEADER_CONTROLLED_ERROR('Transfer-Encoding', 'Lookout sets Transfer-Encoding itself (checks send no body)')],
      ['Connection', 'header="Connection: keep-alive"', HEADER_CONTROLLED_ERROR('Connection', 'Lookout manages the connection itself (every check opens a fresh one)')],
      ['Keep-Alive', 'header="Keep-Alive: timeout=5"', HEADER_CONTROLLED_ERROR('Keep-Alive', 'Lookout manages the connection itself (every check opens a fresh one)')],
      ['Proxy-Connection', 'header="Proxy-Connection: close"', HEADER_CONTROLLED_ERROR('Proxy-Connection', 'Lookout manages the connection itself (every check opens a fresh one)')],
      ['Upgrade', 'header="Upgrade: websocket"', HEADER_CONTROLLED_ERROR('Upgrade', 'Lookout does not switch protocols: a check is one plain HTTP request')],
      ['TE', 'header="TE: trailers"', HEADER_CONTROLLED_ERROR('TE', 'Lookout chooses the transfer codings it accepts itself')],
      ['Trailer', 'header="Trailer: X"', HEADER_CONTROLLED_ERROR('Trailer', 'Lookout sends no trailers (checks send no body)')],
      ['Expect', 'header="Expect: 100-continue"', HEADER_CONTROLLED_ERROR('Expect', 'Lookout sends no body, so there is nothing to expect a 100 Continue for')],
      ['removing Host', 'header="Host:"', HEADER_CONTROLLED_ERROR('Host', 'Lookout sets Host from the URL')],
    ])('refuses %s', (_, option, error) => {
      const parsed = build(`https://api.example.com/ ${option}`);
      if (error === 'keeps') {
        // The first colon ends the name: the rest is the value.
        expect(parsed.ok && parsed.value.kind === 'http' && parsed.value.headers).toEqual([{ name: 'X', value: 'Y: v' }]);
        return;
      }
      expect(parsed).toEqual({ ok: false, errors: [error] });
    });

    it.each([
      ['every RFC 9110 token character in a name', "header=\"!#$%&'*+-.^_`|~09AZaz: v\"", "!#$%&'*+-.^_`|~09AZaz", 'v'],
      ['every printable ASCII character in a value', 'header="X-V: !\\\"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"', 'X-V', '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'],
      ['a tab inside a value', 'header="X-V: a\tb"', 'X-V', 'a\tb'],
      ['spaces and tabs around a value, dropped', 'header="X-V: \t a b \t"', 'X-V', 'a b'],
      ['User-Agent (Lookout only sets a default)', 'header="User-Agent: probe/1"', 'User-Agent', 'probe/1'],
    ])('accepts %s', (_, option, name, value) => {
      expect(buildHttp(`https://api.example.com/ ${option}`).headers).toEqual([{ name, value }]);
    });

    it('never repeats a header value in any of its errors', () => {
      for (const value of ['s3cr3t🔥', 's3cr3t\nx', `s3cr3t${'x'.repeat(5_000)}`]) {
        const parsed = build(`https://api.example.com/ header="Authorization: ${value}"`);
        expect(parsed.ok).toBe(false);
        expect(errorsOf(parsed).join('\n')).not.toContain('s3cr3t');
      }
    });

    it('applies the same rules to /edit', () => {
      const target = buildHttp('https://api.example.com/');
      expect(editTarget(target, [{ key: 'header', value: 'Transfer-Encoding: chunked' }], { now: NOW })).toEqual({
        ok: false,
        errors: [HEADER_CONTROLLED_ERROR('Transfer-Encoding', 'Lookout sets Transfer-Encoding itself (checks send no body)')],
      });
      expect(editTarget(target, [{ key: 'header', value: 'X-E: 🔥' }], { now: NOW })).toEqual({ ok: false, errors: [HEADER_NON_ASCII_ERROR('X-E')] });
    });

    it('sends repeated headers in the order given', () => {
      expect(buildHttp('https://api.example.com/ header="A: 1" header="B: 2"').headers).toEqual([
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ]);
    });

    it('replaces a header given twice, ignoring the case of its name', () => {
      expect(buildHttp('https://api.example.com/ header="X-Key: 1" header="B: 2" header="x-key: 3"').headers).toEqual([
        { name: 'B', value: '2' },
        { name: 'x-key', value: '3' },
      ]);
    });

    it('removes a header given with an empty value', () => {
      expect(buildHttp('https://api.example.com/ header="A: 1" header="B: 2" header="a:"').headers).toEqual([{ name: 'B', value: '2' }]);
      expect(buildHttp('https://api.example.com/ header="A:   "').headers).toEqual([]);
    });

    it('accepts 20 headers and refuses the 21st', () => {
      expect(buildHttp(`https://api.example.com/ ${headerArgs(20)}`).headers).toHaveLength(20);
      expect(build(`https://api.example.com/ ${headerArgs(21)}`)).toEqual({
        ok: false,
        errors: ['at most 20 headers are allowed'],
      });
    });

    it('lets a 21st header line replace one of 20', () => {
      const headers = buildHttp(`https://api.example.com/ ${headerArgs(20)} header="X-H0: again"`).headers;
      expect(headers).toHaveLength(20);
      expect(headers.at(-1)).toEqual({ name: 'X-H0', value: 'again' });
    });
  });

  describe('the address', () => {
    it.each([
      ['', 'a target needs a URL, like /add https://api.example.com/health'],
      ['every=30s', 'a target needs a URL, like /add https://api.example.com/health'],
      ['http', 'a target needs a URL, like /add https://api.example.com/health'],
      ['tcp', 'a tcp target needs host:port, like /add tcp db.internal:5432'],
      ['tcp every=30s', 'a tcp target needs host:port, like /add tcp db.internal:5432'],
    ])('refuses %j without an address', (command, error) => {
      expect(build(command)).toEqual({ ok: false, errors: [error] });
    });

    it.each(['ftp://files.example.com/', 'file:///etc/passwd', 'api.example.com/health', 'javascript:alert(1)', 'not-a-url'])(
      'refuses the non-http URL %j',
      (url) => {
        expect(build(url)).toEqual({ ok: false, errors: [URL_ERROR(url)] });
      },
    );

    it.each(['https://user:pa55@api.example.com/', 'https://user@api.example.com/'])('refuses the credentials in %j', (url) => {
      const errors = errorsOf(build(url));
      expect(errors).toEqual([CREDENTIALS_ERROR]);
      expect(errors.join()).not.toContain('pa55');
    });

    it.each([
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
      ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254'],
      ['tcp 169.254.169.254:80', '169.254.169.254'],
      ['tcp [fd00:ec2::254]:80', 'fd00:ec2::254'],
      ['tcp 2852039166:80', '169.254.169.254'],
    ])('refuses the cloud metadata address %j unless allowMetadata', (command, host) => {
      expect(build(command)).toEqual({ ok: false, errors: [METADATA_ERROR(host)] });
      expect(build(command, { ...CTX, allowMetadata: false })).toEqual({ ok: false, errors: [METADATA_ERROR(host)] });
      expect(build(command, { ...CTX, allowMetadata: true }).ok).toBe(true);
    });

    // Issue 13: forms that passed before, each refused by /add for http and tcp alike.
    it.each([
      ['[64:ff9b::a9fe:a9fe]', '64:ff9b::a9fe:a9fe (169.254.169.254)', 'a cloud metadata address'],
      ['[::169.254.169.254]', '::a9fe:a9fe (169.254.169.254)', 'a cloud metadata address'],
      ['[::ffff:0:a9fe:a9fe]', '::ffff:0:a9fe:a9fe (169.254.169.254)', 'a cloud metadata address'],
      ['[2002:a9fe:a9fe::1]', '2002:a9fe:a9fe::1 (169.254.169.254)', 'a cloud metadata address'],
      ['169.254.170.2', '169.254.170.2', 'a cloud metadata address'],
      ['100.100.100.200', '100.100.100.200', 'a cloud metadata address'],
      ['169.254.1.1', '169.254.1.1', 'a link-local address'],
      ['[fe80::1]', 'fe80::1', 'a link-local address'],
      ['[febf::1]', 'febf::1', 'a link-local address'],
      ['[fd20:ce::254]', 'fd20:ce::254', 'a cloud metadata address'],
      ['metadata.google.internal', 'metadata.google.internal', 'the name of a cloud metadata service'],
      ['METADATA.Google.Internal.', 'metadata.google.internal.', 'the name of a cloud metadata service'],
      ['metadata', 'metadata', 'the name of a cloud metadata service'],
      ['instance-data', 'instance-data', 'the name of a cloud metadata service'],
      ['instance-data.', 'instance-data.', 'the name of a cloud metadata service'],
    ])('/add refuses %j over http and tcp unless allowMetadata', (host, shown, kind) => {
      for (const command of [`http://${host}/latest/meta-data/`, `tcp ${host}:80`]) {
        expect(build(command)).toEqual({ ok: false, errors: [METADATA_ERROR(shown, kind)] });
        expect(build(command, { ...CTX, allowMetadata: true }).ok).toBe(true);
      }
    });

    it.each(['http://10.0.0.1/', 'http://192.168.1.1/', 'http://127.0.0.1:8080/', 'http://[::1]/', 'http://[fd00::1]/', 'http://metadata.example.com/', 'tcp 100.100.100.201:80', 'tcp 169.255.0.1:80'])(
      '/add still accepts the private or ordinary address %j',
      (command) => {
        expect(build(command).ok).toBe(true);
      },
    );

    it('builds a metadata target when allowed', () => {
      expect(buildHttp('http://169.254.169.254/latest/meta-data/', { ...CTX, allowMetadata: true })).toMatchObject({
        name: '169-254-169-254',
        url: 'http://169.254.169.254/latest/meta-data/',
      });
      expect(buildTcp('tcp [fd00:ec2::254]:80', { ...CTX, allowMetadata: true })).toMatchObject({
        name: 'fd00-ec2-254',
        host: 'fd00:ec2::254',
        port: 80,
      });
    });

    it.each([
      ['tcp db.internal:5432', 'db.internal', 5432],
      ['tcp [::1]:443', '::1', 443],
      ['tcp 10.0.0.5:22', '10.0.0.5', 22],
    ])('reads host and port from %j', (command, host, port) => {
      expect(buildTcp(command)).toMatchObject({ host, port });
    });

    it.each(['db.internal', 'db.internal:0', 'db.internal:65536', '::1:443', '[::1]', 'bad_host:80'])(
      'refuses the tcp address %j',
      (address) => {
        expect(build(`tcp ${address}`)).toEqual({ ok: false, errors: [HOST_PORT_ERROR(address)] });
      },
    );

    it('refuses words that are not key=value options', () => {
      expect(build('https://api.example.com/ 30s more')).toEqual({
        ok: false,
        errors: ['unexpected "30s": options are written key=value, like every=30s'],
      });
    });
  });

  describe('rules between fields', () => {
    it.each([
      ['timeout=10s every=10s', ['timeout must be shorter than the interval (10s), got "10s"']],
      // The default timeout follows a short interval: 80% of it, in whole seconds.
      ['every=10s', []],
      ['every=10s keyword=ok method=HEAD', ['keyword cannot be used with method=HEAD: a HEAD response has no body']],
      ['timeout=1m', ['timeout must be shorter than the interval (1m), got "1m"']],
      ['timeout=2m', ['timeout must be shorter than the interval (1m), got "2m"']],
      ['timeout=59s', []],
      ['retry=1m', []],
      ['retry=61s', ['retry must not be longer than the interval (1m), got "1m1s"']],
      ['retry=1h every=30m', ['retry must not be longer than the interval (30m), got "1h"']],
      [
        'every=10s timeout=30s retry=20s',
        [
          'timeout must be shorter than the interval (10s), got "30s"',
          'retry must not be longer than the interval (10s), got "20s"',
        ],
      ],
    ])('%j gives %j', (options, errors) => {
      const parsed = build(`https://api.example.com/ ${options}`);
      if (errors.length === 0) expect(parsed.ok).toBe(true);
      else expect(parsed).toEqual({ ok: false, errors });
    });

    it('checks a tcp target too', () => {
      expect(build('tcp db.internal:5432 every=10s timeout=10s')).toEqual({
        ok: false,
        errors: ['timeout must be shorter than the interval (10s), got "10s"'],
      });
    });
  });

  it('reports every problem at once, in the order given', () => {
    const command = 'ftp://x.example extra name=Bad every=1s foo=1 every=2m confirm=0 header=oops';
    expect(build(command)).toEqual({
      ok: false,
      errors: [
        'unexpected "extra": options are written key=value, like every=30s',
        URL_ERROR('ftp://x.example'),
        NAME_ERROR('Bad'),
        'every must be between 10s and 1d, got "1s"',
        `unknown option "foo" for a http target; expected one of ${HTTP_KEYS}`,
        'option "every" is given twice',
        'confirm must be a whole number between 1 and 10, got "0"',
        HEADER_ERROR('oops'),
      ],
    });
  });

  it('reports every problem of a tcp target at once', () => {
    expect(build('tcp db.internal method=GET recover=11')).toEqual({
      ok: false,
      errors: [
        HOST_PORT_ERROR('db.internal'),
        `unknown option "method" for a tcp target; expected one of ${TCP_KEYS}`,
        'recover must be a whole number between 1 and 10, got "11"',
      ],
    });
  });
});

describe('editTarget', () => {
  const LATER = NOW + 60_000;
  const base = buildHttp('https://api.example.com/health name=api header="X-Key: s3cr3t" note=runbook keyword=OK latency=800', {
    ...CTX,
    threadId: 9,
  });
  const tcpBase = buildTcp('tcp db.internal:5432 name=db');
  const edit = (target: Target, text: string, ctx: Omit<TargetContext, 'chatId'> = { now: LATER }): Parsed<Target> =>
    editTarget(target, args(text).options, ctx);

  it('returns a new object and never modifies the original', () => {
    const before = structuredClone(base);
    const edited = valueOf(edit(base, 'every=30s header="X-Key:" header="X-New: 1" note= keyword= latency=off expect=200'));
    expect(base).toStrictEqual(before);
    expect(edited).not.toBe(base);
    expect(edited).toStrictEqual({
      id: `${CHAT}/api`,
      chatId: CHAT,
      threadId: 9,
      name: 'api',
      everyMs: 30_000,
      timeoutMs: 10_000,
      retryMs: 5_000,
      confirm: 2,
      recover: 1,
      paused: false,
      createdAt: NOW,
      updatedAt: LATER,
      kind: 'http',
      url: 'https://api.example.com/health',
      method: 'GET',
      expect: [{ from: 200, to: 200 }],
      headers: [{ name: 'X-New', value: '1' }],
    });
  });

  it('shares no arrays with the original', () => {
    const before = structuredClone(base);
    const edited = valueOf(edit(base, 'confirm=3'));
    if (edited.kind !== 'http') throw new Error('expected http');
    expect(edited.headers).not.toBe(base.headers);
    expect(edited.expect).not.toBe(base.expect);
    edited.headers.push({ name: 'X-Other', value: '2' });
    edited.expect.push({ from: 500, to: 599 });
    expect(base).toStrictEqual(before);
  });

  it.each<[string, Partial<HttpTarget>]>([
    ['every=5m', { everyMs: 300_000 }],
    ['interval=5m', { everyMs: 300_000 }],
    ['timeout=20s', { timeoutMs: 20_000 }],
    ['retry=10s', { retryMs: 10_000 }],
    ['confirm=5', { confirm: 5 }],
    ['recover=3', { recover: 3 }],
    ['note="call Bo"', { note: 'call Bo' }],
    ['method=post', { method: 'POST' }],
    ['expect=200,204', { expect: [{ from: 200, to: 200 }, { from: 204, to: 204 }] }],
    ['keyword="All good"', { keyword: 'All good' }],
    ['latency=2s', { latencyMs: 2_000 }],
    ['header="X-Key: rotated"', { headers: [{ name: 'X-Key', value: 'rotated' }] }],
    ['header="X-Two: 2"', { headers: [{ name: 'X-Key', value: 's3cr3t' }, { name: 'X-Two', value: '2' }] }],
    ['header="x-key:"', { headers: [] }],
    ['url=https://api2.example.com/ready', { url: 'https://api2.example.com/ready', name: 'api' }],
  ])('applies %j and keeps everything else', (options, fields) => {
    const before = structuredClone(base);
    const edited = valueOf(edit(base, options));
    expect(edited).toStrictEqual({ ...base, ...fields, updatedAt: LATER });
    expect(base).toStrictEqual(before);
  });

  it.each([
    ['note=""', 'note'],
    ['keyword=""', 'keyword'],
    ['latency=0', 'latencyMs'],
  ])('%j removes the optional field', (options, field) => {
    expect(base).toHaveProperty(field);
    expect(valueOf(edit(base, options))).not.toHaveProperty(field);
  });

  it('renames with name=', () => {
    const edited = valueOf(edit(base, 'name=api-v2'));
    expect(edited).toMatchObject({ name: 'api-v2', id: `${CHAT}/api-v2`, createdAt: NOW, updatedAt: LATER, chatId: CHAT });
    expect(base.name).toBe('api');
    expect(base.id).toBe(`${CHAT}/api`);
  });

  it('keeps the forum topic and paused flag of the original', () => {
    const paused: HttpTarget = { ...base, paused: true };
    expect(valueOf(edit(paused, 'every=2m', { now: LATER, threadId: 77 }))).toMatchObject({ paused: true, threadId: 9 });
  });

  it('edits a tcp target', () => {
    expect(valueOf(edit(tcpBase, 'host=[::1]:6432 every=30s'))).toStrictEqual({
      ...tcpBase,
      host: '::1',
      port: 6432,
      everyMs: 30_000,
      updatedAt: LATER,
    });
  });

  describe('a shorter interval', () => {
    const slow = buildHttp('https://api.example.com/ name=slow every=5m retry=2m');

    it.each([
      ['every=1m', 60_000, 60_000],
      ['every=30s', 30_000, 30_000],
      ['every=2m', 120_000, 120_000],
      ['every=3m', 180_000, 120_000],
      ['every=10m', 600_000, 120_000],
      ['every=1m retry=30s', 60_000, 30_000],
    ])('%j gives every=%i and retry=%i', (options, everyMs, retryMs) => {
      expect(valueOf(edit(slow, options))).toMatchObject({ everyMs, retryMs });
      expect(slow.retryMs).toBe(120_000);
    });

    it('keeps the default retry delay when it still fits', () => {
      expect(valueOf(edit(base, 'every=10s timeout=5s'))).toMatchObject({ everyMs: 10_000, retryMs: 5_000, timeoutMs: 5_000 });
    });

    it('refuses a retry given explicitly that is longer than the new interval', () => {
      expect(edit(slow, 'every=1m retry=2m')).toEqual({
        ok: false,
        errors: ['retry must not be longer than the interval (1m), got "2m"'],
      });
    });
  });

  describe('refused edits', () => {
    it.each([
      ['every=5s', ['every must be between 10s and 1d, got "5s"']],
      ['every=10s timeout=10s', ['timeout must be shorter than the interval (10s), got "10s"']],
      ['timeout=2m', ['timeout must be shorter than the interval (1m), got "2m"']],
      ['name=API', [NAME_ERROR('API')]],
      ['every=30s every=1m', ['option "every" is given twice']],
      ['host=db.internal:5432', [`unknown option "host" for a http target; expected one of ${HTTP_KEYS}`]],
      ['url=ftp://files.example.com/', [URL_ERROR('ftp://files.example.com/')]],
      ['url=http://169.254.169.254/', [METADATA_ERROR('169.254.169.254')]],
      ['confirm=0 method=FETCH', ['confirm must be a whole number between 1 and 10, got "0"', 'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"']],
      [headerArgs(20, 'X-More'), ['at most 20 headers are allowed']],
    ])('refuses %j and leaves the original as it was', (options, errors) => {
      const before = structuredClone(base);
      expect(edit(base, options)).toEqual({ ok: false, errors });
      expect(base).toStrictEqual(before);
    });

    it.each([
      ['method=GET', [`unknown option "method" for a tcp target; expected one of ${TCP_KEYS}`]],
      ['host=169.254.169.254:80', [METADATA_ERROR('169.254.169.254')]],
      ['host=db.internal', [HOST_PORT_ERROR('db.internal')]],
    ])('refuses %j for a tcp target', (options, errors) => {
      const before = structuredClone(tcpBase);
      expect(edit(tcpBase, options)).toEqual({ ok: false, errors });
      expect(tcpBase).toStrictEqual(before);
    });

    it('allows a metadata URL when the deployment allows it', () => {
      expect(valueOf(edit(base, 'url=http://169.254.169.254/', { now: LATER, allowMetadata: true }))).toMatchObject({
        url: 'http://169.254.169.254/',
      });
    });
  });

  it.each<[string, () => Target, string]>([
    ['http', () => base, `nothing to change: give options like every=30s; http targets accept ${HTTP_KEYS}`],
    ['tcp', () => tcpBase, `nothing to change: give options like every=30s; tcp targets accept ${TCP_KEYS}`],
  ])('refuses an edit without options for a %s target', (_kind, target, error) => {
    expect(editTarget(target(), [], { now: LATER })).toEqual({ ok: false, errors: [error] });
  });
});

describe('defaults that follow the interval', () => {
  const ctx = { chatId: 1, now: 0 };
  it.each([
    ['every=10s', 8_000],
    ['every=12s', 9_000],
    ['every=15s', 10_000],
    ['every=1h', 10_000],
  ])('%s gets a default timeout of %d ms', (options, timeoutMs) => {
    const parsed = buildTarget(parseArgs(`https://a.example/ ${options}`).ok ? (parseArgs(`https://a.example/ ${options}`) as { ok: true; value: CommandArgs }).value : { positional: [], options: [] }, ctx);
    expect(parsed.ok && parsed.value.timeoutMs).toBe(timeoutMs);
  });

  it('an edit to a short interval brings a timeout that was not given along', () => {
    const base = buildTarget({ positional: ['https://a.example/'], options: [] }, ctx);
    if (!base.ok) throw new Error('base');
    const edited = editTarget(base.value, [{ key: 'every', value: '10s' }], { now: 1 });
    expect(edited.ok && [edited.value.everyMs, edited.value.timeoutMs, edited.value.retryMs]).toEqual([10_000, 8_000, 5_000]);
  });
});

// ec2 targets: an AWS-compatible EC2 API endpoint, a region and optional credentials.

const EC2_KEYS = 'name, every, timeout, retry, confirm, recover, note, remind, errorrate, sla, notify, escalate, locations, quorum, region, key, secret, token';
const EC2_ENDPOINT = 'https://ec2.us-east-1.amazonaws.com';
// AWS's documented example credentials.
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AWS_TOKEN = 'FwoGZXIvYXdzEXAMPLE/session+token==';
const ENDPOINT_ERROR = (text: string): string =>
  `endpoint must be an http:// or https:// address like https://ec2.us-east-1.amazonaws.com, got "${text}"`;
const REGION_ERROR = (text: string): string =>
  `region must be 1-32 characters of a-z, 0-9 or "-", like us-east-1 or eu-central-1, got "${text}"`;
const MISSING_ENDPOINT = 'an ec2 target needs its endpoint URL, like /add ec2 https://ec2.us-east-1.amazonaws.com region=us-east-1';
const MISSING_REGION = 'an ec2 target needs region=, like region=us-east-1';
const KEY_ERROR = 'key must be an access key id of 4-128 letters and digits, like AKIAIOSFODNN7EXAMPLE';
const SECRET_ERROR = 'secret must be at most 256 characters without spaces';
const TOKEN_ERROR = 'token must be a session token of at most 4096 characters without spaces';
const PAIR_ERROR = 'key= and secret= go together';

function buildEc2(text: string, ctx: TargetContext = CTX): Ec2Target {
  const target = valueOf(build(text, ctx));
  if (target.kind !== 'ec2') throw new Error(`expected an ec2 target, got ${target.kind}`);
  return target;
}

describe('parseEndpoint', () => {
  it.each([
    ['https://ec2.us-east-1.amazonaws.com', 'https://ec2.us-east-1.amazonaws.com/'],
    ['http://127.0.0.1:5000', 'http://127.0.0.1:5000/'],
    ['https://Cloud.Example.internal:8773/services/Cloud', 'https://cloud.example.internal:8773/services/Cloud'],
    ['http://[::1]:5000/', 'http://[::1]:5000/'],
  ])('accepts %j', (text, href) => {
    expect(valueOf(parseEndpoint(text)).href).toBe(href);
  });

  it.each(['ftp://ec2.example.com/', 'ec2.us-east-1.amazonaws.com', 'https://', 'not a url', ''])('refuses %j', (text) => {
    expect(parseEndpoint(text)).toEqual({ ok: false, errors: [ENDPOINT_ERROR(text)] });
  });

  it.each(['https://ec2.example.com/?Action=x', 'https://ec2.example.com/#top'])('refuses the query or fragment in %j', (text) => {
    expect(parseEndpoint(text)).toEqual({ ok: false, errors: [`endpoint must not have a query or a fragment, got "${text}"`] });
  });

  it('refuses credentials in the URL without repeating them', () => {
    const parsed = parseEndpoint('https://AKIAX:s3cr3t@ec2.example.com/');
    expect(parsed).toEqual({ ok: false, errors: ['endpoint must not contain a user name or password: give key= and secret= instead'] });
    expect(JSON.stringify(parsed)).not.toContain('s3cr3t');
  });

  it.each([
    ['http://169.254.169.254/', '169.254.169.254'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http://0xa9fea9fe/', '169.254.169.254'],
  ])('refuses the metadata address in %j unless allowed', (text, shown) => {
    expect(parseEndpoint(text)).toEqual({ ok: false, errors: [METADATA_ERROR(shown)] });
    expect(parseEndpoint(text, true).ok).toBe(true);
  });

  it('refuses an endpoint longer than 2048 characters', () => {
    const base = 'https://ec2.example.com/';
    expect(parseEndpoint(base + 'a'.repeat(2049 - base.length))).toEqual({ ok: false, errors: ['endpoint must be at most 2048 characters, got 2049'] });
  });
});

describe('buildTarget for ec2', () => {
  it('builds an ec2 target with every default of product.md', () => {
    expect(build(`ec2 ${EC2_ENDPOINT} region=us-east-1`)).toStrictEqual({
      ok: true,
      value: {
        id: `${CHAT}/ec2-us-east-1-amazonaws-com`,
        chatId: CHAT,
        name: 'ec2-us-east-1-amazonaws-com',
        everyMs: 60_000,
        timeoutMs: 10_000,
        retryMs: 5_000,
        confirm: 2,
        recover: 1,
        paused: false,
        createdAt: NOW,
        updatedAt: NOW,
        kind: 'ec2',
        endpoint: 'https://ec2.us-east-1.amazonaws.com/',
        region: 'us-east-1',
      },
    });
  });

  it('keeps the credentials it is given', () => {
    expect(buildEc2(`ec2 ${EC2_ENDPOINT} region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token=${AWS_TOKEN}`)).toMatchObject({
      accessKeyId: AWS_KEY,
      secretAccessKey: AWS_SECRET,
      sessionToken: AWS_TOKEN,
    });
  });

  it.each([`EC2 ${EC2_ENDPOINT} region=us-east-1`, `Ec2 ${EC2_ENDPOINT} region=us-east-1`])('accepts the kind in %j', (command) => {
    expect(buildEc2(command).endpoint).toBe('https://ec2.us-east-1.amazonaws.com/');
  });

  it.each([
    ['ec2 http://127.0.0.1:5000 region=us-east-1', '127-0-0-1'],
    ['ec2 https://Compute.Lab.Example:8773/services/Cloud region=lab-1', 'compute-lab-example'],
    ['ec2 http://[::1]:5000/ region=us-east-1', '1'],
    [`ec2 ${EC2_ENDPOINT} region=us-east-1 name=aws-east`, 'aws-east'],
  ])('%j is called %j', (command, name) => {
    const target = buildEc2(command);
    expect(target.name).toBe(name);
    expect(target.id).toBe(`${CHAT}/${name}`);
  });

  it.each<[string, Partial<Ec2Target>]>([
    ['region=eu-central-1', { region: 'eu-central-1' }],
    ['region=lab-1', { region: 'lab-1' }],
    ['region=x', { region: 'x' }],
    [`region=${'r'.repeat(32)}`, { region: 'r'.repeat(32) }],
    ['region=us-east-1 every=30s timeout=5s retry=3s confirm=3 recover=2 note=aws remind=2h', { everyMs: 30_000, timeoutMs: 5_000, retryMs: 3_000, confirm: 3, recover: 2, note: 'aws', remindMs: 7_200_000 }],
    ['region=us-east-1 interval=2m', { everyMs: 120_000 }],
    ['region=us-east-1 key=0123456789abcdef0123456789abcdef secret=0123456789abcdef', { accessKeyId: '0123456789abcdef0123456789abcdef', secretAccessKey: '0123456789abcdef' }],
  ])('applies %j', (options, fields) => {
    expect(buildEc2(`ec2 ${EC2_ENDPOINT} ${options}`)).toMatchObject(fields);
  });

  it.each(['key= secret=', 'token=', 'key= secret= token='])('leaves the credentials out for %j', (options) => {
    const target = buildEc2(`ec2 ${EC2_ENDPOINT} region=us-east-1 ${options}`);
    expect(target).not.toHaveProperty('accessKeyId');
    expect(target).not.toHaveProperty('secretAccessKey');
    expect(target).not.toHaveProperty('sessionToken');
  });

  it.each([
    ['', MISSING_REGION],
    ['every=30s', MISSING_REGION],
    ['region=', REGION_ERROR('')],
    ['region=US-EAST-1', REGION_ERROR('US-EAST-1')],
    ['region=us_east_1', REGION_ERROR('us_east_1')],
    ['region="us east"', REGION_ERROR('us east')],
    [`region=${'r'.repeat(33)}`, REGION_ERROR('r'.repeat(33))],
    ['region=us-east-1 region=eu-central-1', 'option "region" is given twice'],
    [`region=us-east-1 key=${AWS_KEY}`, PAIR_ERROR],
    [`region=us-east-1 secret=${AWS_SECRET}`, PAIR_ERROR],
    [`region=us-east-1 secret=${AWS_SECRET} token=${AWS_TOKEN}`, PAIR_ERROR],
    [`region=us-east-1 token=${AWS_TOKEN}`, 'token= needs key= and secret= too'],
    [`region=us-east-1 key=AKIA-BAD secret=${AWS_SECRET}`, KEY_ERROR],
    [`region=us-east-1 key=AKI secret=${AWS_SECRET}`, KEY_ERROR],
    [`region=us-east-1 key=${AWS_KEY} secret="has space"`, SECRET_ERROR],
    [`region=us-east-1 key=${AWS_KEY} secret=${'s'.repeat(257)}`, SECRET_ERROR],
    [`region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token="a b"`, TOKEN_ERROR],
    [`region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token=${'t'.repeat(4097)}`, TOKEN_ERROR],
    ['region=us-east-1 method=GET', `unknown option "method" for a ec2 target; expected one of ${EC2_KEYS}`],
    ['region=us-east-1 host=db.internal:5432', `unknown option "host" for a ec2 target; expected one of ${EC2_KEYS}`],
    ['region=us-east-1 url=https://a.example/', `unknown option "url" for a ec2 target; expected one of ${EC2_KEYS}`],
    ['region=us-east-1 every=10s timeout=10s', 'timeout must be shorter than the interval (10s), got "10s"'],
  ])('refuses %j', (options, error) => {
    expect(build(`ec2 ${EC2_ENDPOINT} ${options}`)).toEqual({ ok: false, errors: [error] });
  });

  it.each([
    ['key=x', `unknown option "key" for a http target; expected one of ${HTTP_KEYS}`],
    ['secret=x', `unknown option "secret" for a http target; expected one of ${HTTP_KEYS}`],
    ['endpoint=https://a.example/', `unknown option "endpoint" for a http target; expected one of ${HTTP_KEYS}`],
  ])('refuses the ec2 option %j for an http target', (options, error) => {
    expect(build(`https://api.example.com/ ${options}`)).toEqual({ ok: false, errors: [error] });
  });

  it('refuses region= for a tcp target', () => {
    expect(build('tcp db.internal:5432 region=us-east-1')).toEqual({
      ok: false,
      errors: [`unknown option "region" for a tcp target; expected one of ${TCP_KEYS}`],
    });
  });

  it.each([
    ['ec2', MISSING_ENDPOINT],
    ['ec2 region=us-east-1', MISSING_ENDPOINT],
    ['ec2 ec2.us-east-1.amazonaws.com region=us-east-1', ENDPOINT_ERROR('ec2.us-east-1.amazonaws.com')],
    ['ec2 ftp://ec2.example.com region=us-east-1', ENDPOINT_ERROR('ftp://ec2.example.com')],
    ['ec2 http://169.254.169.254/ region=us-east-1', METADATA_ERROR('169.254.169.254')],
    ['ec2 http://[fd00:ec2::254]/ region=us-east-1', METADATA_ERROR('fd00:ec2::254')],
    ['ec2 http://[64:ff9b::a9fe:a9fe]/ region=us-east-1', METADATA_ERROR('64:ff9b::a9fe:a9fe (169.254.169.254)')],
    ['ec2 http://100.100.100.200/ region=us-east-1', METADATA_ERROR('100.100.100.200')],
    ['ec2 http://instance-data/ region=us-east-1', METADATA_ERROR('instance-data', 'the name of a cloud metadata service')],
  ])('refuses the address of %j', (command, error) => {
    expect(build(command)).toEqual({ ok: false, errors: [error] });
  });

  it('allows a metadata endpoint when the deployment allows it', () => {
    expect(buildEc2('ec2 http://169.254.169.254/ region=us-east-1', { ...CTX, allowMetadata: true })).toMatchObject({
      endpoint: 'http://169.254.169.254/',
      name: '169-254-169-254',
    });
  });

  it('reports every problem of an ec2 target at once', () => {
    expect(build('ec2 ftp://x.example extra method=GET key=bad! every=1s')).toEqual({
      ok: false,
      errors: [
        'unexpected "extra": options are written key=value, like every=30s',
        ENDPOINT_ERROR('ftp://x.example'),
        `unknown option "method" for a ec2 target; expected one of ${EC2_KEYS}`,
        KEY_ERROR,
        'every must be between 10s and 1d, got "1s"',
        MISSING_REGION,
      ],
    });
  });

  it('never repeats a secret or a token in its errors', () => {
    const bad = [
      `ec2 ${EC2_ENDPOINT} region=us-east-1 secret="${AWS_SECRET} x"`,
      `ec2 ${EC2_ENDPOINT} region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token="${AWS_TOKEN} x"`,
      `ec2 ${EC2_ENDPOINT} region=us-east-1 key="${AWS_SECRET}" secret=${AWS_SECRET}`,
      `ec2 ${EC2_ENDPOINT} region=us-east-1 secret=${AWS_SECRET}`,
      `ec2 ${EC2_ENDPOINT} region=US secret=${AWS_SECRET} token=${AWS_TOKEN}`,
    ];
    for (const command of bad) {
      const text = errorsOf(build(command)).join('\n');
      expect(text).not.toContain(AWS_SECRET);
      expect(text).not.toContain(AWS_TOKEN);
    }
  });
});

describe('ec2 addresses and credentials as shown', () => {
  const withToken = buildEc2(`ec2 ${EC2_ENDPOINT} region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token=${AWS_TOKEN}`);

  it.each<[string, string, string, number]>([
    [`ec2 ${EC2_ENDPOINT} region=us-east-1`, 'ec2 https://ec2.us-east-1.amazonaws.com/ (us-east-1)', 'ec2.us-east-1.amazonaws.com', 443],
    ['ec2 http://127.0.0.1:5000 region=eu-central-1', 'ec2 http://127.0.0.1:5000/ (eu-central-1)', '127.0.0.1', 5000],
    ['ec2 http://cloud.lab/services/Cloud region=lab-1', 'ec2 http://cloud.lab/services/Cloud (lab-1)', 'cloud.lab', 80],
    ['ec2 https://[fd00::5]:8773/ region=lab-1', 'ec2 https://[fd00::5]:8773/ (lab-1)', 'fd00::5', 8773],
  ])('%j is shown as %j, traced to %j port %i', (command, address, host, port) => {
    const target = buildEc2(command);
    expect(targetAddress(target)).toBe(address);
    expect(traceTarget(target)).toEqual({ host, port });
  });

  it('never shows the secret or the token in the address', () => {
    expect(targetAddress(withToken)).toBe('ec2 https://ec2.us-east-1.amazonaws.com/ (us-east-1)');
    expect(targetAddress(withToken)).not.toContain(AWS_SECRET);
    expect(targetAddress(withToken)).not.toContain(AWS_TOKEN);
  });

  it.each<[string, string]>([
    [`ec2 ${EC2_ENDPOINT} region=us-east-1`, 'default AWS credential chain'],
    [`ec2 ${EC2_ENDPOINT} region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET}`, 'key AKIA••••MPLE, secret ••••'],
    [`ec2 ${EC2_ENDPOINT} region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token=${AWS_TOKEN}`, 'key AKIA••••MPLE, secret ••••, session token ••••'],
    [`ec2 ${EC2_ENDPOINT} region=us-east-1 key=AKIASHORT secret=${AWS_SECRET}`, 'key ••••, secret ••••'],
  ])('masks the credentials of %j as %j', (command, shown) => {
    expect(maskedCredentials(buildEc2(command))).toBe(shown);
  });
});

describe('editTarget for ec2', () => {
  const LATER = NOW + 60_000;
  const ec2Base = buildEc2(`ec2 ${EC2_ENDPOINT} name=aws region=us-east-1 key=${AWS_KEY} secret=${AWS_SECRET} token=${AWS_TOKEN}`);
  const plain = buildEc2(`ec2 ${EC2_ENDPOINT} name=aws region=us-east-1`);
  const edit = (target: Target, text: string, ctx: Omit<TargetContext, 'chatId'> = { now: LATER }): Parsed<Target> =>
    editTarget(target, args(text).options, ctx);

  it.each<[string, Partial<Ec2Target>]>([
    ['region=eu-central-1', { region: 'eu-central-1' }],
    ['endpoint=https://ec2.eu-central-1.amazonaws.com', { endpoint: 'https://ec2.eu-central-1.amazonaws.com/', name: 'aws' }],
    ['every=5m timeout=20s', { everyMs: 300_000, timeoutMs: 20_000 }],
    ['secret=rotated/EXAMPLEKEY', { secretAccessKey: 'rotated/EXAMPLEKEY' }],
    [`key=${AWS_KEY}`, {}],
    [`token=newer/token==`, { sessionToken: 'newer/token==' }],
  ])('applies %j and keeps everything else', (options, fields) => {
    const before = structuredClone(ec2Base);
    expect(valueOf(edit(ec2Base, options))).toStrictEqual({ ...ec2Base, ...fields, updatedAt: LATER });
    expect(ec2Base).toStrictEqual(before);
  });

  it('drops the session token when the key changes without one', () => {
    const edited = valueOf(edit(ec2Base, 'key=AKIAOTHERKEYEXAMPLE1 secret=other/secret'));
    expect(edited).toMatchObject({ accessKeyId: 'AKIAOTHERKEYEXAMPLE1', secretAccessKey: 'other/secret' });
    expect(edited).not.toHaveProperty('sessionToken');
    expect(valueOf(edit(ec2Base, 'key=AKIAOTHERKEYEXAMPLE1 secret=other/secret token=new/token'))).toMatchObject({ sessionToken: 'new/token' });
  });

  it('goes back to the default credential chain with key= secret=', () => {
    const edited = valueOf(edit(ec2Base, 'key= secret='));
    expect(edited).not.toHaveProperty('accessKeyId');
    expect(edited).not.toHaveProperty('secretAccessKey');
    expect(edited).not.toHaveProperty('sessionToken');
    expect(maskedCredentials(edited as Ec2Target)).toBe('default AWS credential chain');
  });

  it('adds credentials to a target on the default chain', () => {
    expect(valueOf(edit(plain, `key=${AWS_KEY} secret=${AWS_SECRET}`))).toStrictEqual({
      ...plain,
      accessKeyId: AWS_KEY,
      secretAccessKey: AWS_SECRET,
      updatedAt: LATER,
    });
  });

  it.each<[string, 'with key' | 'default chain', string[]]>([
    ['key=', 'with key', [PAIR_ERROR]],
    ['secret=', 'with key', [PAIR_ERROR]],
    [`key=${AWS_KEY}`, 'default chain', [PAIR_ERROR]],
    ['token=abc', 'default chain', ['token= needs key= and secret= too']],
    ['region=Bad', 'with key', [REGION_ERROR('Bad')]],
    ['endpoint=ftp://x.example/', 'with key', [ENDPOINT_ERROR('ftp://x.example/')]],
    ['endpoint=http://169.254.169.254/', 'with key', [METADATA_ERROR('169.254.169.254')]],
    ['method=GET', 'with key', [`unknown option "method" for a ec2 target; expected one of ${EC2_KEYS}`]],
    ['key=bad!', 'with key', [KEY_ERROR]],
  ])('refuses %j for a target %s and leaves the original as it was', (options, which, errors) => {
    const target = which === 'with key' ? ec2Base : plain;
    const before = structuredClone(target);
    expect(edit(target, options)).toEqual({ ok: false, errors });
    expect(target).toStrictEqual(before);
  });

  it('refuses an edit without options for an ec2 target', () => {
    expect(editTarget(ec2Base, [], { now: LATER })).toEqual({
      ok: false,
      errors: [`nothing to change: give options like every=30s; ec2 targets accept ${EC2_KEYS}`],
    });
  });
});

describe('issue 6 options', () => {
  const ctx = { chatId: 1, now: 0 };
  const build = (text: string) => {
    const parsed = parseArgs(text);
    if (!parsed.ok) throw new Error('tokenize');
    return buildTarget(parsed.value, ctx);
  };
  it.each([
    ['errorrate=25%', { errorRatePct: 25 }],
    ['errorrate=0', { errorRatePct: 0 }],
    ['errorrate=100', { errorRatePct: 100 }],
    ['maintenance="Wartung"', { maintenance: 'Wartung' }],
  ])('%s', (options, expected) => {
    const t = build(`https://a.example/ ${options}`);
    expect(t.ok && t.value).toMatchObject(expected);
  });
  it.each(['errorrate=101', 'errorrate=-1', 'errorrate=ten', 'errorrate=5.5'])('refuses %s', (options) => {
    expect(build(`https://a.example/ ${options}`)).toEqual({ ok: false, errors: [`errorrate must be a percentage between 0 and 100 (0 = off), like 10%, got "${options.slice(10)}"`] });
  });
});

describe('sla', () => {
  const build = (text: string) => {
    const parsed = parseArgs(text);
    if (!parsed.ok) throw new Error('tokenize');
    return buildTarget(parsed.value, { chatId: 1, now: 0 });
  };
  it.each([
    ['sla=99.9', 99.9],
    ['sla=99.95%', 99.95],
    ['sla=100', 100],
    ['sla=95', 95],
  ])('%s', (options, pct) => {
    const t = build(`tcp a.example:1 ${options}`);
    expect(t.ok && t.value.slaPct).toBe(pct);
  });
  it('sla=0 clears it in an edit', () => {
    const t = build('https://a.example/ sla=99');
    if (!t.ok) throw new Error('build');
    const edited = editTarget(t.value, [{ key: 'sla', value: '0' }], { now: 1 });
    expect(edited.ok && edited.value.slaPct).toBeUndefined();
  });
  it.each(['sla=101', 'sla=-1', 'sla=99.99999', 'sla=high', 'sla=0.0'])('refuses %s', (options) => {
    expect(build(`https://a.example/ ${options}`)).toEqual({ ok: false, errors: [`sla must be an uptime percentage above 0 and at most 100, like 99.9, or 0 for none, got "${options.slice(4)}"`] });
  });
});

describe('locations and quorum together', () => {
  it('refuses a quorum the named places could never make, at /add and at an edit', () => {
    expect(errorsOf(build('https://a.example/ locations=fra,nyc quorum=3'))).toEqual(['quorum 3 is more than the 2 locations named in locations (fra,nyc)']);
    const ok = valueOf(build('https://a.example/ locations=fra,nyc quorum=2'));
    expect(ok.quorum).toEqual({ kind: 'count', n: 2 });
    expect(errorsOf(editTarget(ok, [{ key: 'locations', value: 'fra' }], { now: NOW }))).toEqual(['quorum 2 is more than the 1 location named in locations (fra)']);
    // Every live place (the default): the number is capped at the places there are.
    expect(valueOf(build('https://a.example/ quorum=5')).quorum).toEqual({ kind: 'count', n: 5 });
  });
});
