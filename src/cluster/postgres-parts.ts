// What several instances on one PostgreSQL database need at run time, in one module that main.ts loads
// with import() only when DATABASE_URL is set: a single instance on SQLite loads no PostgreSQL code.
export { createBus } from './bus.js';
export { createLeaderElector } from './leader.js';
export { createMembership, newMemberId } from './members.js';
