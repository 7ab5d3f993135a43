import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCheck, emptySummary, encodeBucket, type StoredBucket, type TimelinePoint } from '../../src/domain/history.js';
import { chartSvg } from '../../src/reports/chart.js';
import { PERIODS, periodStats } from '../../src/reports/period.js';
import type { DayCell, StatusPageModel } from '../../src/statuspage/model.js';
import { renderStatusPage } from '../../src/statuspage/render.js';
import { axeViolations, formatViolations, hasChromium, launchBrowser, watchPage, type PageWatch } from '../support/browser.js';

// The rendered status page in a real browser (Debian's chromium): it loads nothing, logs no error, fits
// a phone, can be used from the keyboard, and axe finds nothing in light or dark mode. Screenshots land
// in test-artifacts/statuspage/ for a human look.

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;
const TIMEOUT = 60_000;
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/statuspage');
/** The routes' CSP (src/statuspage/routes.ts): any load the page tried would also show as a console error. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** 90 days, oldest first: mostly clean, a few bad ones, no data before `dataFrom` days ago. */
function days(bad: Record<number, number>, dataFrom = 90): DayCell[] {
  return Array.from({ length: 90 }, (_, i) => {
    const ago = 89 - i;
    const day = new Date(NOW - ago * DAY).toISOString().slice(0, 10);
    if (ago >= dataFrom) return { day, downMs: 0 };
    const pct = bad[ago] ?? 100;
    return { day, uptimePct: pct, downMs: Math.round(((100 - pct) / 100) * DAY) };
  });
}

/** The last 24 hours of minute buckets around 120 ms, failing for half an hour six hours ago. */
function latencyChart(): string {
  const from = NOW - PERIODS['24h'].ms;
  const downAt = NOW - 6 * 3_600_000;
  const buckets: StoredBucket[] = [];
  for (let t = from; t < NOW; t += MIN) {
    const s = emptySummary();
    const failing = t >= downAt && t < downAt + 30 * MIN;
    addCheck(s, failing ? { ok: false, latencyMs: 10_000, reason: 'timeout' } : { ok: true, latencyMs: 120 + 40 * Math.sin((t - from) / 3_600_000) });
    buckets.push(encodeBucket(t, s));
  }
  const timeline: TimelinePoint[] = [
    [from - 1_000, 'UP'],
    [downAt, 'DOWN'],
    [downAt + 30 * MIN, 'UP'],
  ];
  return chartSvg('api · response time, last 24 hours (UTC)', '24h', periodStats(buckets, timeline, from, NOW, PERIODS['24h'].columnMs));
}

/** Three targets, one UP (with its chart and address), one DOWN with an open incident, one in MAINTENANCE. */
function model(refreshSeconds: number): StatusPageModel {
  return {
    title: 'Acme <Cloud> status',
    generatedAt: NOW,
    refreshSeconds,
    targets: [
      { name: 'api', state: 'UP', since: NOW - 6 * 3_600_000 + 30 * MIN, address: 'https://api.example.com/health?verbose=1&probe=lookout-with-a-long-query', days: days({ 0: 97.9, 12: 99.95, 40: 99.2 }), uptimePct: 99.95, latencySvg: latencyChart() },
      { name: 'payments-gateway-eu-west-with-a-rather-long-name', state: 'DOWN', since: NOW - 12 * MIN, days: days({ 0: 99.1, 3: 90 }, 30), uptimePct: 99.71 },
      { name: 'search', state: 'MAINTENANCE', since: NOW - 45 * MIN, days: days({ 20: 94 }), uptimePct: 99.93 },
    ],
    openIncidents: [{ target: 'payments-gateway-eu-west-with-a-rather-long-name', from: NOW - 12 * MIN, reason: 'not answering in time' }],
    recentIncidents: [
      { target: 'api', from: NOW - 6 * 3_600_000, to: NOW - 6 * 3_600_000 + 30 * MIN, reason: 'refusing connections' },
      { target: 'search', from: NOW - 20 * DAY, to: NOW - 20 * DAY + 65 * MIN, reason: 'answering with errors' },
    ],
  };
}

describe.skipIf(!hasChromium)('the status page in a real browser', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  // The self-reloading page as served (a long reload so that no test sees it), and the same page without it.
  const pages: Record<string, string> = { '/': renderStatusPage(model(600)), '/no-reload': renderStatusPage(model(0)) };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = createServer((req, res) => {
      const body = pages[req.url ?? ''];
      if (req.method !== 'GET' || body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  }, TIMEOUT);

  /** A fresh page at `width`×`height` in `scheme`, watched from before it loads `path` (`forAxe`: CSP bypassed so axe can be injected). */
  async function open(path: string, width: number, height: number, scheme: 'light' | 'dark' = 'light', forAxe = false): Promise<{ page: Page; watch: PageWatch }> {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, reducedMotion: 'reduce', bypassCSP: forAxe });
    const page = await context.newPage();
    const watch = watchPage(page);
    const response = await page.goto(`${origin}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    return { page, watch };
  }
  const close = (page: Page): Promise<void> => page.context().close();

  it(
    'loads with the states in words, no console or page error, and no request beyond the page itself',
    async () => {
      const { page, watch } = await open('/', 1280, 900);
      expect(await page.title()).toBe('Acme <Cloud> status');
      expect(await page.locator('h1').textContent()).toBe('Acme <Cloud> status');
      expect(await page.locator('.overall').textContent()).toBe('Partial outage');
      expect(await page.locator('.target .pill').allTextContents()).toEqual(['Up', 'Down', 'Maintenance']);
      expect(await page.locator('#ongoing + .incs').textContent()).toContain('not answering in time');
      expect(await page.locator('.bar').first().locator('li').count()).toBe(90);
      expect(await page.locator('.chart-img svg').count()).toBe(1);
      expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('600');
      expect(await page.locator('footer').textContent()).toMatch(/^Updated 2026-12-01 12:00:00 UTC; this page reloads itself every 10m\. Powered by Lookout$/);
      expect(await page.locator('script, link, img, iframe, object, embed').count()).toBe(0);
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
      expect(watch.requests).toEqual([`${origin}/`]);
      await close(page);
    },
    TIMEOUT,
  );

  it.each([
    ['light', 'light'],
    ['dark', 'dark'],
  ] as const)(
    'fits a 375 px phone in %s mode without horizontal scroll, every table open too',
    async (_name, scheme) => {
      const { page } = await open('/', 375, 800, scheme);
      const scroll = (): Promise<{ scrollWidth: number; innerWidth: number }> =>
        page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');
      expect(await scroll()).toEqual({ scrollWidth: 375, innerWidth: 375 });
      const cell = await page.locator('.bar li').first().boundingBox();
      expect(cell?.width).toBeGreaterThan(2);
      await page.screenshot({ path: join(ARTIFACTS, `phone-${scheme}.png`), fullPage: true });
      await page.evaluate('document.querySelectorAll("details").forEach((d) => { d.open = true; })');
      expect((await scroll()).scrollWidth).toBeLessThanOrEqual(375);
      await close(page);
    },
    TIMEOUT,
  );

  it.each([
    ['light', 'light'],
    ['dark', 'dark'],
  ] as const)(
    'desktop screenshot in %s mode',
    async (_name, scheme) => {
      const { page, watch } = await open('/', 1280, 900, scheme);
      await page.screenshot({ path: join(ARTIFACTS, `desktop-${scheme}.png`), fullPage: true });
      expect(watch.consoleErrors).toEqual([]);
      await close(page);
    },
    TIMEOUT,
  );

  it(
    'keyboard: Tab reaches a visible skip link first, then one stop per target (not 90), each with a visible focus outline',
    async () => {
      const { page } = await open('/', 375, 800);
      const focused = (): Promise<{ tag: string; text: string; outline: string }> =>
        page.evaluate<{ tag: string; text: string; outline: string }>(
          '(() => { const e = document.activeElement; const s = getComputedStyle(e); return { tag: e.tagName.toLowerCase(), text: e.textContent.trim(), outline: s.outlineStyle + " " + s.outlineWidth }; })()',
        );
      await page.keyboard.press('Tab');
      expect(await focused()).toEqual({ tag: 'a', text: 'Skip to main content', outline: 'solid 3px' });
      const box = await page.locator(':focus').boundingBox();
      expect(box).not.toBeNull();
      expect(box!.width).toBeGreaterThan(20);
      expect(box!.y).toBeGreaterThanOrEqual(0);
      expect(box!.y + box!.height).toBeLessThanOrEqual(800);
      await page.keyboard.press('Enter');
      expect(await page.evaluate<string>('document.activeElement.id')).toBe('main');
      // The "Stop reloading" link sits before the main content (WCAG 2.2.1: reachable before the reload).
      const stops: string[] = [];
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        stops.push(`${f.tag}:${f.text}`);
        expect(f.outline).toBe('solid 3px');
        expect(await page.locator(':focus').isVisible()).toBe(true);
      }
      expect(stops).toEqual(['summary:Daily uptime of api', 'summary:Daily uptime of payments-gateway-eu-west-with-a-rather-long-name', 'summary:Daily uptime of search']);
      expect(await page.evaluate<number>('document.querySelectorAll("a[href], summary, button, input, select, textarea, [tabindex]:not([tabindex=\'-1\'])").length')).toBe(5);
      await page.keyboard.press('Enter');
      expect(await page.locator('details').nth(2).getAttribute('open')).toBe('');
      expect(await page.locator('details').nth(2).locator('tbody tr').count()).toBe(90);
      await close(page);
    },
    TIMEOUT,
  );

  it(
    'dark mode (emulateMedia): dark background, light text, and the chart still on its light card',
    async () => {
      const { page } = await open('/', 1280, 900, 'light');
      const colors = (): Promise<{ body: string; text: string; chart: string }> =>
        page.evaluate<{ body: string; text: string; chart: string }>(
          '({ body: getComputedStyle(document.body).backgroundColor, text: getComputedStyle(document.body).color, chart: getComputedStyle(document.querySelector(".chart-img")).backgroundColor })',
        );
      expect(await colors()).toEqual({ body: 'rgb(246, 248, 250)', text: 'rgb(31, 35, 40)', chart: 'rgb(255, 255, 255)' });
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await colors()).toEqual({ body: 'rgb(13, 17, 23)', text: 'rgb(230, 237, 243)', chart: 'rgb(255, 255, 255)' });
      await close(page);
    },
    TIMEOUT,
  );

  it.each([
    ['light', 'light'],
    ['dark', 'dark'],
  ] as const)(
    'axe (WCAG 2.0/2.1 A and AA) finds nothing in %s mode on the page without its self-reload',
    async (_name, scheme) => {
      const { page } = await open('/no-reload', 1280, 900, scheme, true);
      await page.locator('details').first().evaluate('(d) => { d.open = true; }');
      const violations = await axeViolations(page);
      expect(violations, formatViolations(violations)).toEqual([]);
      await close(page);
    },
    TIMEOUT,
  );

  it.each([
    ['light', 'light'],
    ['dark', 'dark'],
  ] as const)(
    'axe in %s mode on the page as served: its only finding is the meta refresh (WCAG 2.2.1, a product decision)',
    async (_name, scheme) => {
      const { page } = await open('/', 375, 800, scheme, true);
      const violations = await axeViolations(page);
      // axe fails any <meta http-equiv="refresh"> under 20 hours: a reload the reader cannot turn off.
      // The page reloads by design (it must stay current without JS); everything else must be clean.
      expect(violations.map((v) => v.id), formatViolations(violations)).toEqual(['meta-refresh']);
      await close(page);
    },
    TIMEOUT,
  );
});
