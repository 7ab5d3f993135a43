import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// A real browser for tests of what Lookout serves to people: Debian's chromium driven by playwright-core
// (no browser download), and axe-core injected into the page to judge its accessibility.

/** Where Debian installs chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether this machine has it: browser tests skip without it, and only then. */
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Headless, sandbox off (containers run as root), and every background connection of its own off: the only requests are the page's. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Starts headless chromium; the caller closes it (in afterAll). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true, timeout: 60_000 });
}

/** One axe finding, as much of it as a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string; failureSummary: string }>;
}

/** What axe checks: WCAG 2.0 and 2.1 A and AA by default; `disableRules` turns named rules off (say why at the call). */
export interface AxeOptions {
  tags?: readonly string[];
  disableRules?: readonly string[];
}

let axeSource: string | undefined;
/** axe.min.js of the installed axe-core, read once. */
function axeScript(): string {
  axeSource ??= readFileSync(join(dirname(createRequire(import.meta.url).resolve('axe-core')), 'axe.min.js'), 'utf8');
  return axeSource;
}

/** Injects axe-core into the page (once per document) and returns its violations; a page with a CSP needs a context with `bypassCSP: true`. */
export async function axeViolations(page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> {
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.addScriptTag({ content: axeScript() });
  const runOptions = {
    runOnly: { type: 'tag', values: [...(options.tags ?? ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])] },
    rules: Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }])),
    resultTypes: ['violations'],
  };
  // A string, not a function: the test's tsconfig has no DOM types, and the result is plain JSON anyway.
  return page.evaluate<AxeViolation[]>(
    `axe.run(document, ${JSON.stringify(runOptions)}).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String), html: n.html, failureSummary: n.failureSummary ?? '' })) })))`,
  );
}

/** Violations in words, for a failure message: rule, impact, help, then each element and why. */
export function formatViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => [`${v.id} (${v.impact ?? 'no impact'}): ${v.help}`, ...v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.html}\n    ${n.failureSummary.replace(/\n/g, '\n    ')}`)].join('\n'))
    .join('\n');
}

/** What a page did that a test may want to forbid: console errors, uncaught errors, and every request it made. */
export interface PageWatch {
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  readonly requests: string[];
}

/** Starts recording console errors, page errors and requests of `page` (call before the first goto). */
export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { consoleErrors: [], pageErrors: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watch.pageErrors.push(error.message));
  page.on('request', (request) => watch.requests.push(request.url()));
  return watch;
}
