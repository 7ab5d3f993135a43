import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// No Docker daemon runs on the CI machines: the Dockerfile is checked by reading it.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
/** Instructions of the last stage, continuation lines joined. */
const finalStage = (() => {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const stages = joined.split(/^FROM /m);
  return `FROM ${stages.at(-1)}`.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
})();
const instruction = (name: string): string[] => finalStage.filter((l) => l.startsWith(`${name} `));

describe('Dockerfile', () => {
  it('runs on node:24-slim in a multi-stage build', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(finalStage[0]).toMatch(/^FROM node:24-slim\b/);
  });

  it('installs mtr-tiny and gives mtr-packet the raw-socket capability', () => {
    const runs = instruction('RUN').join('\n');
    expect(runs).toContain('mtr-tiny');
    expect(runs).toContain('fonts-dejavu-core');
    expect(runs).toMatch(/setcap cap_net_raw\+ep \/usr\/bin\/mtr-packet/);
  });

  it('installs iputils-ping for ping targets, with the raw-socket capability (the process is not root)', () => {
    const runs = instruction('RUN').join('\n');
    expect(runs).toContain('iputils-ping');
    expect(runs).toMatch(/setcap cap_net_raw\+ep \/usr\/bin\/ping/);
  });

  it('runs as a non-root user with the data volume it owns', () => {
    const users = instruction('USER');
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/USER (root|0)\b/);
    expect(instruction('ENV').join(' ')).toContain('DATA_DIR=/data');
    expect(instruction('RUN').join('\n')).toMatch(/chown node:node \/data/);
    expect(instruction('VOLUME').join(' ')).toContain('/data');
  });

  it('ships only production dependencies and starts the built app', () => {
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(instruction('CMD')[0]).toBe('CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "dist/main.js"]');
  });
});
