import { mkdir } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, formatViolations, hasChromium, launchBrowser, watchPage } from '../support/browser.js';
import { startAppRig, type AppRig } from '../support/app-rig.js';
import { startTargetServer, closedPort, type TargetServer } from '../support/target-server.js';

// The status page of the running app in a real browser (Debian's headless Chromium): what a visitor
// sees, a state change after the page reloads itself, no console errors, no request to anything but
// the page, and axe-core's WCAG 2 A/AA rules. Screenshots are kept in test-artifacts/statuspage/.

const ARTIFACTS = 'test-artifacts/statuspage';
let rig: AppRig;
let port: number;
let web: TargetServer;
let browser: Browser;

describe.skipIf(!hasChromium)('status page in a browser', () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    web = await startTargetServer();
    await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
    await rig.say(`/add ${web.url}/ name=web confirm=1`, 'Added');
    await rig.telegram.waitForCount('editMessageText', 2);
    await rig.say('/statuspage on title="Acme status" targets=api,web slug=acme', 'Status page');
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await rig?.close();
  });

  it('shows each target, turns a DOWN visible after a reload, loads nothing else and logs no error', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const watch = watchPage(page);
    const url = `http://127.0.0.1:${port}/status/acme`;
    const first = await page.goto(url);
    expect(first?.status()).toBe(200);
    expect(await page.title()).toContain('Acme status');
    const text = (): Promise<string> => page.locator('main').innerText();
    expect(await text()).toContain('api');
    expect(await text()).toContain('web');
    expect(await text()).toMatch(/All systems operational/i);
    await page.screenshot({ path: `${ARTIFACTS}/app-desktop-up.png`, fullPage: true });

    web.setStatus(503);
    await rig.say('/check web', 'web');
    // The page is rendered at most once per 5 s: reload until the change is in it (as its meta refresh would).
    await expect
      .poll(
        async () => {
          await page.reload();
          return text();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toMatch(/Down/);
    expect(await text()).toMatch(/outage/i);
    await page.screenshot({ path: `${ARTIFACTS}/app-desktop-down.png`, fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/app-phone-down.png`, fullPage: true });

    expect(watch.consoleErrors).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.requests.every((r) => r.startsWith(`http://127.0.0.1:${port}/status/acme`))).toBe(true);
    await context.close();
  }, 90_000);

  it('meets WCAG 2 A/AA (axe-core) in light and dark mode, with the outage on it', async () => {
    // axe is injected by the test: the page's own CSP would refuse the script.
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ bypassCSP: true, colorScheme, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/status/acme`);
      // axe fails any self-reload under 20 h (meta-refresh, SC 2.2.1): the page meets 2.2.1 with its
      // "Stop reloading" link, first in the page after the title; followed, every rule passes.
      const served = await axeViolations(page);
      expect(served.map((v) => v.id), formatViolations(served)).toEqual(['meta-refresh']);
      await page.getByRole('link', { name: 'Stop reloading' }).click();
      expect(page.url()).toContain('refresh=off');
      expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
      const violations = await axeViolations(page);
      expect(violations, formatViolations(violations)).toEqual([]);
      await page.getByRole('link', { name: 'Reload automatically' }).click();
      expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(1);
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string>('document.activeElement ? document.activeElement.tagName : ""')).not.toBe('BODY');
      await context.close();
    }
  }, 90_000);
});
