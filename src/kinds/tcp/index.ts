import { parseHostPort, type TargetCommon } from '../../domain/target.js';
import { defineKind, errorOf, hostPort, type OptionSpec, type Draft } from '../kind.js';
import { createTcpProbe } from './probe.js';

/** A TCP port checked by opening a connection. */
export interface TcpTarget extends TargetCommon {
  kind: 'tcp';
  host: string;
  port: number;
}

const host: OptionSpec<Draft<TcpTarget>> = {
  apply: (d, v, ctx) => errorOf(parseHostPort(v, ctx.allowMetadata), (hp) => ((d.host = hp.host), (d.port = hp.port))),
};

/** The tcp kind: UP when a connection to host:port opens. */
export const tcpKind = defineKind<TcpTarget>({
  kind: 'tcp',
  usage: '/add tcp HOST:PORT',
  summary: 'a TCP connection to host:port',
  dialogue: '<code>tcp host:port</code>',
  optionsExample: '<code>name=db every=30s timeout=5s</code>',
  address: { key: 'host', documentHint: 'host: host:port', missing: 'a tcp target needs host:port, like /add tcp db.internal:5432', apply: host.apply },
  options: { host },
  finish: (d) => ({ host: d.host as string, port: d.port as number }),
  nameHost: (d) => d.host as string,
  show: (t) => hostPort(t.host, t.port),
  describe: () => 'tcp connect',
  entry: (t) => ({ host: hostPort(t.host, t.port) }),
  trace: (t) => ({ host: t.host, port: t.port }),
  secrets: () => [],
  create: (runtime) => ({
    probe: createTcpProbe({
      allowMetadata: runtime.allowMetadata,
      ...(runtime.lookup ? { lookup: runtime.lookup } : {}),
      ...(runtime.sourceAddress !== undefined ? { sourceAddress: runtime.sourceAddress } : {}),
    }),
  }),
});
