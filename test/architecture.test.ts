import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The map of docs/architecture.md, checked: domain/ imports nothing outside itself, no module outside a
// kind's folder names a kind, and src/ has no import cycle (type-only imports included: a cycle of types
// is still two modules that cannot be understood apart).

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const ALL = files(SRC);
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*?from '(\.[^']+)';/gm)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));

describe('the architecture', () => {
  it('domain/ imports only domain/ (and node builtins)', () => {
    const outside = ALL.filter((f) => relative(SRC, f).startsWith('domain/')).flatMap((f) =>
      importsOf(f)
        .filter((i) => !relative(SRC, i).startsWith('domain/'))
        .map((i) => `${relative(SRC, f)} → ${relative(SRC, i)}`),
    );
    expect(outside).toEqual([]);
  });

  it('src/ has no import cycle', () => {
    const graph = new Map(ALL.map((f) => [f, importsOf(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        // A kind's probe may name its own module's target type: a type-only import inside one kind's folder.
        const cycle = path.slice(path.indexOf(f));
        const folder = (x: string) => relative(SRC, x).split('/').slice(0, 2).join('/');
        if (!cycle.every((x) => folder(x) === folder(f) && folder(f).startsWith('kinds/'))) cycles.push([...cycle, f].map((x) => relative(SRC, x)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const next of graph.get(f) ?? []) if (graph.has(next)) visit(next, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of ALL) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('no module outside src/kinds/ compares a target with a kind name', () => {
    const names = ['http', 'tcp', 'ec2', 'ping', 'dns', 'heartbeat'];
    const found = ALL.filter((f) => !relative(SRC, f).startsWith('kinds/')).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => names.some((n) => new RegExp(`\\b(t|target|entry|draft|d|previous|stored)\\.kind\\s*[!=]==?\\s*'${n}'`).test(line)))
        .map(({ i }) => `${relative(SRC, f)}:${i + 1}`),
    );
    expect(found).toEqual([]);
  });

  it('a headless process on SQLite loads no grammy, PostgreSQL or rasteriser code at start', () => {
    // main.ts's static value imports (import type is erased; `await import()` is lazy): none of the
    // modules they reach may import these packages, which main loads only with a bot token or a database URL.
    const lazy = /^(grammy|@grammyjs\/.*|pg|@keyv\/postgres|@resvg\/resvg-js)$/;
    const valueImports = (file: string): { local: string[]; packages: string[] } => {
      const text = readFileSync(file, 'utf8');
      const typeOnly = (clause: string): boolean => {
        const braces = /^\{([^}]*)\}$/.exec(clause.trim());
        return braces !== null && braces[1]!.split(',').map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith('type '));
      };
      const specs = [...text.matchAll(/^(?:import|export)(?! type )([^'"]*?)from '([^']+)';/gm)].filter((m) => !typeOnly(m[1]!)).map((m) => m[2]!);
      return {
        local: specs.filter((x) => x.startsWith('.')).map((x) => resolve(dirname(file), x.replace(/\.js$/, '.ts'))),
        packages: specs.filter((x) => !x.startsWith('.') && !x.startsWith('node:')),
      };
    };
    const reached = new Set<string>();
    const found: string[] = [];
    const walk = (file: string, path: string[]): void => {
      if (reached.has(file)) return;
      reached.add(file);
      const { local, packages } = valueImports(file);
      for (const p of packages.filter((x) => lazy.test(x))) found.push([...path, file].map((x) => relative(SRC, x)).join(' → ') + ` → ${p}`);
      for (const next of local) walk(next, [...path, file]);
    };
    walk(join(SRC, 'main.ts'), []);
    expect(reached.size).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });
});
