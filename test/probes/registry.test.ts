import { describe, expect, it } from 'vitest';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { TcpTarget } from '../../src/kinds/tcp/index.js';
import type { Probe } from '../../src/probes/probe.js';
import { createProbeRegistry } from '../../src/probes/registry.js';

const okRun = async () => ({ ok: true, at: 0, latencyMs: 1 });
const httpProbe: Probe<HttpTarget> = { kind: 'http', run: okRun };
const tcpProbe: Probe<TcpTarget> = { kind: 'tcp', run: okRun };

describe('createProbeRegistry', () => {
  it('returns the probe registered for each kind', () => {
    const registry = createProbeRegistry([httpProbe, tcpProbe]);
    expect(registry.get<HttpTarget>('http')).toBe(httpProbe);
    expect(registry.get<TcpTarget>('tcp')).toBe(tcpProbe);
  });

  it('lists the registered kinds', () => {
    expect(createProbeRegistry([httpProbe, tcpProbe]).kinds()).toEqual(['http', 'tcp']);
    expect(createProbeRegistry([]).kinds()).toEqual([]);
  });

  it('throws for a kind nobody registered', () => {
    const registry = createProbeRegistry([httpProbe]);
    expect(() => registry.get<TcpTarget>('tcp')).toThrow('no probe registered for kind "tcp"');
  });

  it('throws when two probes claim the same kind', () => {
    const other: Probe<HttpTarget> = { kind: 'http', run: okRun };
    expect(() => createProbeRegistry([httpProbe, other])).toThrow('two probes registered for kind "http"');
  });
});
