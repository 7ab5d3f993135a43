// The cluster benchmark's targets: a plain HTTP server on 127.0.0.1 in its own process (so it does not
// share the bench's CPU) that answers 200 "ok" on /t0 … /t{n-1} (n is argv[2]) and counts the requests
// of each path. Over IPC it reports its port once and the running total every 100 ms (`{ at, total,
// strays }`), and answers requests with `{ reply, value }`: `counts` (each target's count), `last` (each
// target's last arrival, ms; 0 = never), `record` (start recording every arrival) and `recorded` (each
// target's arrivals since `record`, ascending). Unknown paths get 404 and count as strays.
import { createServer } from 'node:http';

const targets = Number(process.argv[2] ?? '0');
const counts = new Uint32Array(targets);
const lastAt = new Float64Array(targets);
let total = 0;
let strays = 0;
let arrivals: number[][] | undefined;

const server = createServer((req, res) => {
  req.resume();
  const match = /^\/t(\d+)$/.exec(req.url ?? '');
  const index = match ? Number(match[1]) : -1;
  if (index < 0 || index >= targets) {
    strays += 1;
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '9' }).end('no target');
    return;
  }
  const now = Date.now();
  counts[index]! += 1;
  lastAt[index] = now;
  arrivals?.[index]!.push(now);
  total += 1;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
});
server.keepAliveTimeout = 5_000;
server.maxConnections = 100_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4_096 }, () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  setInterval(() => process.send?.({ at: Date.now(), total, strays }), 100);
});

const answers: Record<string, () => unknown> = {
  counts: () => Array.from(counts),
  last: () => Array.from(lastAt),
  record: () => void (arrivals = Array.from({ length: targets }, () => [])),
  recorded: () => {
    const value = arrivals ?? [];
    arrivals = undefined;
    return value;
  },
};
process.on('message', (m) => {
  const answer = typeof m === 'string' ? answers[m] : undefined;
  if (answer) process.send?.({ reply: m, value: answer() ?? null });
});
process.on('disconnect', () => process.exit(0));
