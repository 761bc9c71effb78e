// Headless Chromium for the dashboard test, driven over the DevTools protocol with Bun's own WebSocket
// (the same protocol playwright-core speaks; this keeps the test to what is installed: Debian's
// `chromium`). One browser, one page: navigate, evaluate, wait for a condition, screenshot.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Chromium prints its DevTools address within this long of starting, or it is not going to. */
const LAUNCH_MS_MAX = 15_000;
/** A single DevTools command answers within this long. */
const COMMAND_MS_MAX = 10_000;
const POLL_MS = 50;

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
  const profile = mkdtempSync(join(tmpdir(), 'fluxiq-chromium-'));
  const proc = Bun.spawn([CHROMIUM_PATH, ...CHROMIUM_ARGS, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1', `--user-data-dir=${profile}`, 'about:blank'], {
    stdout: 'ignore', stderr: 'pipe',
  });
  const port = await devtoolsPort(proc.stderr, LAUNCH_MS_MAX);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.type === 'page');
  if (target === undefined) throw new Error('chromium started without a page');

  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('could not connect to the page over DevTools'));
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  const errors: string[] = [];
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: any };
    if (msg.id !== undefined) {
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) w?.reject(new Error(msg.error.message));
      else w?.resolve(msg.result);
    } else if (msg.method === 'Runtime.exceptionThrown') {
      errors.push(msg.params.exceptionDetails?.exception?.description ?? msg.params.exceptionDetails?.text ?? 'exception');
    } else if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') {
      errors.push(msg.params.args.map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(' '));
    }
  };
  const send = <T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { waiting.delete(id); reject(new Error(`${method}: no answer in ${COMMAND_MS_MAX} ms`)); }, COMMAND_MS_MAX);
      waiting.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      ws.send(JSON.stringify({ id, method, params }));
    });
  };
  await send('Page.enable');
  await send('Runtime.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: false });

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  };

  return {
    errors,
    async goto(url) {
      const loaded = new Promise<void>((resolve) => {
        const prev = ws.onmessage!;
        ws.onmessage = (m) => {
          prev.call(ws, m);
          if (String(m.data).includes('"Page.loadEventFired"')) { ws.onmessage = prev; resolve(); }
        };
      });
      await send('Page.navigate', { url });
      await loaded;
    },
    evaluate,
    async waitFor<T>(expression: string, what: string, ms = 10_000): Promise<T> {
      const end = performance.now() + ms;
      let last: unknown;
      for (;;) {
        try {
          last = await evaluate<T>(expression);
        } catch (e) {
          last = `threw: ${(e as Error).message}`; // e.g. the element is not there yet
          if (performance.now() > end) throw new Error(`timed out waiting for ${what} (${String(last)}; page errors: ${errors.join(' | ') || 'none'})`);
          await Bun.sleep(POLL_MS);
          continue;
        }
        if (last) return last as T;
        if (performance.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)}; page errors: ${errors.join(' | ') || 'none'})`);
        await Bun.sleep(POLL_MS);
      }
    },
    async screenshot() {
      const r = await send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
      return Uint8Array.from(Buffer.from(r.data, 'base64'));
    },
    async close() {
      ws.close();
      proc.kill();
      await proc.exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function devtoolsPort(stderr: ReadableStream<Uint8Array>, ms: number): Promise<number> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Bun.sleep(ms).then(() => undefined);
  for (;;) {
    const chunk = await Promise.race([reader.read(), deadline]);
    if (chunk === undefined || chunk.done) throw new Error(`chromium did not print its DevTools address within ${ms} ms:\n${text.slice(-2000)}`);
    text += decoder.decode(chunk.value, { stream: true });
    const m = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
    if (m) {
      reader.releaseLock();
      // keep draining stderr so chromium never blocks on a full pipe
      void stderr.pipeTo(new WritableStream()).catch(() => undefined);
      return Number(m[1]);
    }
  }
}
