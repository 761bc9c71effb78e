// Headless Chromium for the dashboard test: Debian's `chromium` driven by playwright-core (which never
// downloads a browser of its own; the machine's closed network would refuse it). One browser, one page:
// navigate, evaluate, wait for a condition, screenshot.
import { chromium, type Browser, type Page as PwPage } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** --disable-background-networking and friends: without them Chromium's own connections are refused here, many at a time. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** How long a waitFor polls before it fails with what it waited for. */
const WAIT_MS_MAX = 15_000;

export interface Page {
  goto(url: string): Promise<void>;
  /** the value of a JavaScript expression in the page (awaited, returned by value) */
  evaluate<T>(expression: string): Promise<T>;
  /** polls `expression` until it is truthy; throws with `what` and the last value after `ms` */
  waitFor<T>(expression: string, what: string, ms?: number): Promise<T>;
  screenshot(): Promise<Uint8Array>;
  /** uncaught exceptions and console errors the page reported */
  errors: string[];
  close(): Promise<void>;
}

export async function launchPage(viewport = { width: 1440, height: 1000 }): Promise<Page> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  // bypassCSP: the page's strict CSP (script-src 'self') would refuse the test's own waitFor expressions
  const page: PwPage = await browser.newPage({ viewport, bypassCSP: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // HTTP error statuses also surface as console errors ("Failed to load resource"): a refused login or a
  // missing favicon is the page working, not failing, so only the page's own errors count
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return {
    errors,
    async goto(url) {
      await page.goto(url);
    },
    evaluate: <T>(expression: string) => page.evaluate(expression) as Promise<T>,
    async waitFor<T>(expression: string, what: string, ms = WAIT_MS_MAX): Promise<T> {
      try {
        const handle = await page.waitForFunction(expression, undefined, { timeout: ms, polling: 50 });
        return (await handle.jsonValue()) as T;
      } catch (e) {
        const last = await page.evaluate(expression).catch((err: unknown) => String(err));
        throw new Error(`waited ${ms} ms for ${what}; last value ${JSON.stringify(last)} (${e instanceof Error ? e.message.split('\n')[0] : e})`);
      }
    },
    screenshot: async () => new Uint8Array(await page.screenshot({ fullPage: true })),
    async close() {
      await browser.close();
    },
  };
}
