// The benchmark's target: a plain HTTP server on 127.0.0.1 in its own process, so it does not
// share the measured process's CPU. It reports its port over IPC and answers 200 "ok".
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.keepAliveTimeout = 5_000;
server.maxConnections = 100_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4_096 }, () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
