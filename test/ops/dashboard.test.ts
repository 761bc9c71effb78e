// The operations dashboard in a real headless Chromium: an admin signs in, the page shows live numbers
// that move while payments flow through SPI, and an action confirmed in the page (an STR top-up) is
// recorded in the database and applied by BACEN (the sandbox).
// UPDATE_SCREENSHOT=1 also writes the page under load to docs/dashboard.png (the README shows it).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR } from '../../shared/config.ts';
import { CHROMIUM_PATH, launchPage, type Page } from './support/browser.ts';
import { startOpsPlatform, type OpsPlatform } from './support/platform.ts';

let platform: OpsPlatform;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`the dashboard test needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  platform = await startOpsPlatform('ops-dashboard');
  await platform.addUser('operator', 'operator-password-1', ['admin']);
  await platform.addUser('viewer', 'viewer-password-12', ['payments:read']);
  page = await launchPage();
}, 40_000);
afterAll(async () => {
  await page?.close();
  await platform?.stop();
}, 30_000);

const text = (id: string) => `document.getElementById(${JSON.stringify(id)}).textContent`;
const setValue = (selector: string, value: string) =>
  `(() => { const el = document.querySelector(${JSON.stringify(selector)}); el.value = ${JSON.stringify(value)}; el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`;
const click = (selector: string) => `(() => { document.querySelector(${JSON.stringify(selector)}).click(); return true; })()`;

async function signIn(username: string, password: string) {
  await page.goto(`${platform.baseUrl}/ops`);
  await page.waitFor(`!document.getElementById('login').hidden`, 'the sign-in form');
  await page.evaluate(setValue('#username', username));
  await page.evaluate(setValue('#password', password));
  await page.evaluate(click('#login-button'));
}

/** Our PI account at BACEN (the sandbox's books), centavos. */
async function piBalanceCentavos(): Promise<bigint> {
  const accounts = (await platform.spi.sandbox.control('GET', '/spi/accounts')).json.accounts as { ispb: string; balanceCentavos: string }[];
  return BigInt(accounts.find((a) => a.ispb === platform.config.ispb)!.balanceCentavos);
}
const hideToast = `(() => { document.getElementById('toast').hidden = true; return true; })()`;


describe('the operations dashboard', () => {
  test('a user without admin is not let in', async () => {
    await signIn('viewer', 'viewer-password-12');
    const error = await page.waitFor<string>(`${text('login-error')}`, 'the sign-in error');
    expect(error).toContain('scope not granted: admin');
    expect(await page.evaluate<boolean>(`document.getElementById('dashboard').hidden`)).toBe(true);
  }, 20_000);

  test('an admin sees the platform, and the numbers move while payments flow', async () => {
    await signIn('operator', 'operator-password-1');
    await page.waitFor(`!document.getElementById('dashboard').hidden`, 'the dashboard');
    await page.waitFor(`${text('ws-status')} === 'live'`, 'the live feed');
    // first overview rendered: health of this service, partitions, the PI balance from BACEN
    await page.waitFor(`document.querySelector('#table-health tbody').textContent.includes('settlement')`, 'the health table');
    expect(await page.evaluate<string>(`document.querySelector('#table-health tbody').textContent`)).toMatch(/settlement\s*ready/);
    expect(await page.evaluate<string>(`document.querySelector('#table-health tbody').textContent`)).toMatch(/dict\s*down/);
    await page.waitFor(`${text('liq-balance')} !== '–'`, 'the PI balance');
    expect(await page.evaluate<string>(text('liq-warning'))).toBe('100000.00');
    expect(await page.evaluate<string>(`document.querySelector('#table-partitions tbody').textContent`)).toContain('transactions');

    const eventsBefore = Number(await page.evaluate<string>(text('stat-live-events')));
    const totalBefore = Number(await page.waitFor<string>(`/^[0-9]+$/.test(${text('stat-total')}) && ${text('stat-total')}`, 'the payment count'));
    const paid = [];
    for (const amount of ['10.00', '20.00', '30.00', '40.00', '50.00']) paid.push(await platform.pay(amount));
    expect(paid.every((p) => p.status === 'SETTLED')).toBe(true);

    // the WebSocket delivers the payment events as they happen...
    await page.waitFor(`Number(${text('stat-live-events')}) >= ${eventsBefore + paid.length}`, 'live payment events');
    await page.waitFor(`document.getElementById('events').textContent.includes(${JSON.stringify(paid[4]!.endToEndId)})`, 'the last payment in the event list');
    // ...and the polled panels count them: payments in the last two minutes, out per second, latency
    await page.waitFor(`Number(${text('stat-total')}) >= ${totalBefore + paid.length}`, 'the payment count to grow');
    expect(Number(await page.evaluate<string>(text('stat-out-per-s')))).toBeGreaterThan(0);
    expect(await page.evaluate<string>(text('stat-p50'))).toMatch(/^[0-9]+$/);
    expect(page.errors).toEqual([]);
  }, 30_000);

  test('an STR top-up confirmed in the page is applied and recorded', async () => {
    const balanceBefore = await piBalanceCentavos();
    await page.evaluate(click('#action-topup'));
    await page.waitFor(`!document.getElementById('overlay').hidden`, 'the confirmation dialog');
    expect(await page.evaluate<string>(text('dialog-title'))).toBe('STR top-up');
    // cancelling does nothing
    await page.evaluate(click('#dialog-cancel'));
    expect(await page.evaluate<boolean>(`document.getElementById('overlay').hidden`)).toBe(true);
    expect(await platform.deps.sql`select 1 from str_transfers`).toHaveLength(0);

    await page.evaluate(click('#action-topup'));
    await page.waitFor(`!document.getElementById('overlay').hidden`, 'the confirmation dialog');
    await page.evaluate(setValue('#field-amount', '1234.56'));
    await page.evaluate(hideToast);
    await page.evaluate(click('#dialog-confirm'));
    const toast = await page.waitFor<string>(`!document.getElementById('toast').hidden && ${text('toast')}`, 'the result of the top-up');
    expect(toast).toMatch(/^transfer OPS-[0-9A-Z]+-[0-9A-Z]{4}: PI balance [0-9]+\.[0-9]{2}$/);

    const rows = await platform.deps.sql<{ id: string; direction: string; amount_centavos: bigint; status: string; origin: string }[]>`
      select id, direction, amount_centavos, status, origin from str_transfers`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'TO_PI', amount_centavos: 123_456n, status: 'APPLIED', origin: 'MANUAL' });
    expect(toast).toContain(rows[0]!.id);
    // BACEN booked it: our PI account grew by exactly the amount, as the page reported
    const after = await piBalanceCentavos();
    expect(after - balanceBefore).toBe(123_456n);
    expect(toast.endsWith(`PI balance ${(Number(after) / 100).toFixed(2)}`)).toBe(true);
  }, 20_000);

  test('running the window step from the page opens the current window in the database', async () => {
    await page.evaluate(click('#action-window-step'));
    await page.waitFor(`!document.getElementById('overlay').hidden`, 'the confirmation dialog');
    await page.evaluate(hideToast);
    await page.evaluate(click('#dialog-confirm'));
    await page.waitFor(`!document.getElementById('toast').hidden && ${text('toast')}.length > 0`, 'the result of the step');
    const hour = new Date().toISOString().slice(0, 13).replace(/[-T]/g, '');
    const [w] = await platform.deps.sql<{ state: string }[]>`select state from settlement_windows where id = ${`W${hour}`}`;
    expect(w?.state).toBe('OPEN');
    await page.waitFor(`document.querySelector('#table-windows tbody').textContent.includes('W${hour}')`, 'the window in the table');

    const shot = await page.screenshot();
    expect([...shot.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // PNG signature
    expect(shot.byteLength).toBeGreaterThan(20_000);
    if (process.env.UPDATE_SCREENSHOT === '1') writeFileSync(join(ROOT_DIR, 'docs', 'dashboard.png'), shot);
  }, 20_000);
});
