import { Cron } from 'croner';
const N = 10000; const jobs = [];
const before = process.memoryUsage().rss;
for (let i = 0; i < N; i++) jobs.push(new Cron('*/10 * * * * *', { paused: true }, () => {}));
global.gc?.();
console.log('rss MB for', N, 'jobs:', ((process.memoryUsage().rss - before) / 1e6).toFixed(0));
