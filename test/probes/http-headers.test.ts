import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseHeaderLine } from '../../src/domain/header.js';
import type { Header } from '../../src/domain/target.js';
import { createHttpAgent, createHttpProbe } from '../../src/kinds/http/probe.js';
import { runProbe } from '../support/probe-context.js';
import { httpTarget, startTargetServer, type TargetServer } from '../support/target-server.js';

// The header rules of domain/header.ts against what undici really sends: whatever the grammar
// accepts reaches the server byte for byte, and what it refuses is what would fail every check.

const agent = createHttpAgent();
const servers: TargetServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await agent.close();
});

async function send(headers: Header[]) {
  const server = await startTargetServer();
  servers.push(server);
  const result = await runProbe(createHttpProbe({ dispatcher: agent }), httpTarget({ url: server.url, headers }));
  return { result, received: server.requests.last?.headers };
}

const accepted = (line: string): Header => {
  const parsed = parseHeaderLine(line);
  if (!parsed.ok) throw new Error(`refused: ${parsed.errors.join('; ')}`);
  return parsed.value;
};

describe('header lines the grammar accepts are sent as written', () => {
  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

  it.each([
    ['every printable ASCII character', `X-V: ${printable}`, printable],
    ['spaces and a tab inside', 'X-V: a b\tc', 'a b\tc'],
    ['a token name of every kind of character', "X!#$%&'*+-.^_`|~9: v", 'v'],
  ])('%s', async (_, line, value) => {
    const header = accepted(line);
    const { result, received } = await send([header]);
    expect(result.ok).toBe(true);
    expect(received?.[header.name.toLowerCase()]).toBe(value);
  });
});

describe('header lines the grammar refuses are ones undici would not send', () => {
  it.each([
    ['an emoji', { name: 'X-E', value: '🔥' }],
    ['a line feed', { name: 'X-E', value: 'a\nb' }],
    ['a control character', { name: 'X-E', value: 'a\u0001b' }],
    ['DEL', { name: 'X-E', value: 'a\u007fb' }],
    ['Transfer-Encoding', { name: 'Transfer-Encoding', value: 'chunked' }],
    ['Keep-Alive', { name: 'Keep-Alive', value: '1' }],
    ['Upgrade', { name: 'Upgrade', value: 'websocket' }],
    ['Expect', { name: 'Expect', value: '100-continue' }],
  ])('%s', async (_, header) => {
    expect(parseHeaderLine(`${header.name}: ${header.value}`).ok).toBe(false);
    const { result, received } = await send([header]);
    expect(result.ok).toBe(false);
    expect(received).toBeUndefined();
  });
});

describe('an answer with more headers than undici takes', () => {
  it('is DOWN with the reason in words, not undici code', async () => {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\nok`);
        socket.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const own = createHttpAgent();
      const probe = createHttpProbe({ dispatcher: own });
      const result = await probe.run(httpTarget({ url: `http://127.0.0.1:${port}/` }), { signal: AbortSignal.timeout(5_000), now: Date.now });
      await own.close();
      expect(result).toMatchObject({ ok: false, failure: 'protocol', reason: 'response headers too large' });
    } finally {
      server.close();
    }
  });
});
