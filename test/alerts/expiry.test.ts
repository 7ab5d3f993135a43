import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatNotice } from '../../src/alerts/channels/telegram/render.js';
import type { Tell } from '../../src/alerts/policy.js';
import { createWarnings } from '../../src/alerts/warnings.js';
import { createEngine } from '../../src/engine/engine.js';
import { systemClock } from '../../src/lib/clock.js';
import { createHttpAgent, createHttpProbe } from '../../src/kinds/http/probe.js';
import { createProbeRegistry } from '../../src/probes/registry.js';
import { openStore } from '../../src/store/keyv.js';
import { createStateRepository } from '../../src/store/states.js';
import { createTargetRepository } from '../../src/store/targets.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { httpTarget } from '../support/target-server.js';
import { createTestCertificates, hasOpenssl, issueServerCertificate } from '../support/test-certificates.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serveTls(pair: { key: string; cert: string }): Promise<string> {
  const server: Server = createHttpsServer(pair, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** The real probe, engine and warnings over a memory store; messages land in `sent`. */
async function rig(ca: string) {
  const store = await openStore({ kind: 'memory' });
  const agent = createHttpAgent(loopbackLookup, { ca });
  cleanups.push(() => agent.close());
  const engine = createEngine({
    targets: createTargetRepository(store),
    states: createStateRepository(store),
    probes: createProbeRegistry([createHttpProbe({ dispatcher: agent })]),
    clock: systemClock,
  });
  const sent: string[] = [];
  const tell: Tell = async (n) => void sent.push(formatNotice(n)!);
  const warnings = createWarnings({ store, tell, clock: systemClock });
  engine.onCheck((e) => warnings.observe(e.target, e.result));
  await engine.start();
  cleanups.push(() => engine.stop());
  return { engine, warnings, sent };
}

describe.skipIf(!hasOpenssl())('certificate expiry, end to end', () => {
  it('a certificate that expires in 2 days warns once; the check stays UP', async () => {
    const certs = createTestCertificates();
    cleanups.push(async () => certs.dispose());
    const url = await serveTls(issueServerCertificate(certs.ca, { days: 2 }));
    const { engine, warnings, sent } = await rig(certs.ca.cert);
    await engine.upsert(httpTarget({ id: '1/tls', chatId: 1, name: 'tls', url, confirm: 1 }));
    await engine.checkNow('1/tls');
    await engine.checkNow('1/tls');
    await warnings.settle();
    expect(engine.state('1/tls')?.state).toBe('UP');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^⚠️ The TLS certificate of <b>tls<\/b> expires in [12] days? \(/);
  });

  it('an expired certificate is DOWN with "TLS certificate expired"', async () => {
    const certs = createTestCertificates();
    cleanups.push(async () => certs.dispose());
    const url = await serveTls(issueServerCertificate(certs.ca, { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') }));
    const { engine } = await rig(certs.ca.cert);
    await engine.upsert(httpTarget({ id: '1/tls', chatId: 1, name: 'tls', url, confirm: 1 }));
    const event = await engine.checkNow('1/tls');
    expect(event?.result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS certificate expired' });
    expect(engine.state('1/tls')?.state).toBe('DOWN');
  });
});
