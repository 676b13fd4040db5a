/**
 * The dashboard says what is true now, in real Chromium against the real `codex-lab serve` and the
 * fake ChatGPT, with the browser in another time zone than serve: no account is called ready
 * before its quota is read; a refresh that an account needing a sign-in cannot take fails no
 * refresh, and the card's sentence points at its button (never at a command) until it is done; times the router words (the pool, the
 * activity log) are in the browser's zone and count down; sessions have one label in every panel;
 * the request filter follows a rename made in a terminal; a card renamed in a terminal keeps
 * keyboard focus and an open Remove confirmation; a folder the registry does not list offers Add
 * account with its name; a frozen serve is called not answering, and the page recovers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  expireAccessTokens,
  issueAuthDotJson,
  scriptRefresh,
  setNextLogin,
} from '../fakes/fake-issuer.ts';
import { turnThroughRouter } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  showAccountsAs,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

const run = promisify(execFile);
const browserZone = 'America/New_York';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** When usedup's 5-hour window resets (Unix ms). */
let usedupReset: number;
let env: Record<string, string>;

/** `codex-lab ARGS` in a terminal on the serve's home. */
async function codexLab(...args: string[]): Promise<string> {
  const answer = await run(process.execPath, ['bin/codex-lab.mjs', ...args], {
    env: { ...process.env, ...env, CODEX_LAB_HOME: serve.home, CODEX_LAB_CALLBACK_PORT: '0' },
  });
  return answer.stdout;
}

/** A moment as the page words clock times, in `timeZone`. */
function clockIn(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZone,
  }).format(at);
}

async function openDashboard(target: Page): Promise<void> {
  await target.goto(`${serve.url}/ui/#token=${serve.token}`);
  await target.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
}

describe.skipIf(!hasChromium)('the dashboard follows the state it shows', () => {
  beforeAll(async () => {
    buildRenderer();
    const accounts = ['work', 'team', 'signedout', 'usedup'].map((name) => ({
      email: `${name}@example.com`,
    }));
    fake = await startFakeChatGpt({ accounts });
    for (const { email } of accounts) fake.account(email).usagePerTurn = 0;
    usedupReset = Date.now() + (2 * 60 + 17) * 60_000;
    const usedup = fake.account('usedup@example.com');
    usedup.primary!.usedPercent = 100;
    usedup.primary!.resetAt = Math.floor(usedupReset / 1000);
    env = { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl };
    // serve words nothing in its own zone any more; UTC makes a slip show (the browser is not).
    serve = await startServe({ ...env, TZ: 'UTC' }, async (home) => {
      await seedProfiles(
        fake,
        home,
        accounts.map(({ email }) => ({ name: email.split('@')[0]!, email })),
      );
      // signedout's refresh token is dead: its next refresh asks for a new sign-in.
      for (let time = 0; time < 2; time++) {
        scriptRefresh(fake, 'signedout@example.com', 'refresh_token_invalidated');
      }
      expireAccessTokens(fake, 'signedout@example.com');
    });
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      timezoneId: browserZone,
    });
    // What it follows is drawn on the cards (four accounts would be a list by default).
    await showAccountsAs(context, 'cards');
    page = await context.newPage();
    await openDashboard(page);
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('before any quota is read, says the accounts can take sessions, not that they are ready', async () => {
    // serve's first quota poll is 20 s away: no card has a quota yet.
    await expect
      .poll(() => page.getByText('Not checked yet', { exact: true }).count())
      .toBeGreaterThan(0);
    const headline = await page.getByTestId('pool-headline').innerText();
    expect(headline).toBe('4 of 4 accounts can take sessions, quota not known yet.');
    expect(headline).not.toMatch(/ready/);
  });

  it('points a sign-in failure at the card’s button, and drops it once that sign-in is done', async () => {
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    // The others were refreshed: an account that needs a sign-in fails no refresh, its card says it.
    await expect
      .poll(() => page.getByRole('status', { name: 'Quota refresh' }).innerText(), {
        timeout: 20_000,
      })
      .toBe('Quota refreshed for 3 of 4 accounts; the other cannot be read now.');
    expect(await page.locator('.notice', { hasText: 'Refresh quota' }).count()).toBe(0);
    const card = page.getByRole('article', { name: 'Profile signedout' });
    await expect
      .poll(() => card.getByRole('status').innerText())
      .toMatch(/Use Sign in again below/);
    expect(await card.innerText()).not.toMatch(/codex-lab/);

    // Signed in as another profile's account: that profile is renewed (one account's tokens
    // never go into another's profile), and the dialog says signedout was not, as a warning.
    setNextLogin(fake, 'work@example.com');
    await card.getByRole('button', { name: 'Sign in again' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: 'In a small sign-in window' }).check();
    const [wrongPopup] = await Promise.all([
      page.waitForEvent('popup'),
      dialog.getByRole('button', { name: 'Continue to sign-in' }).click(),
    ]);
    const warning = dialog.getByRole('alert');
    await warning.waitFor({ timeout: 20_000 });
    await wrongPopup.close().catch(() => undefined);
    expect(await warning.innerText()).toBe(
      'Signed in as work@example.com — that is profile "work"\'s account, whose sign-in was renewed; "signedout" was not signed in again: sign in to it with its own account (signedout@example.com).',
    );
    expect(await dialog.locator('.success').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await card.getByLabel('Status: Needs sign-in').count()).toBe(1);

    setNextLogin(fake, 'signedout@example.com');
    await card.getByRole('button', { name: 'Sign in again' }).click();
    await dialog.getByRole('radio', { name: 'In a small sign-in window' }).check();
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      dialog.getByRole('button', { name: 'Continue to sign-in' }).click(),
    ]);
    await dialog.getByRole('button', { name: 'Done' }).waitFor({ timeout: 20_000 });
    await popup.close().catch(() => undefined);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => card.getByLabel('Status: Ready').count()).toBe(1);
  });

  it('words the router’s times in the browser’s zone, counting down as time passes', async () => {
    const limitedAt = clockIn(usedupReset, browserZone);
    expect(limitedAt).not.toBe(clockIn(usedupReset, 'UTC'));
    const card = page.getByRole('article', { name: 'Profile usedup' });
    await expect.poll(() => card.getByRole('status').innerText()).toContain(`at ${limitedAt}`);
    // A turn pinned to usedup is refused; the activity line names until when.
    const refused = await turnThroughRouter(serve.url, serve.token, 'sess-pinned', {
      session_id: 'sess-pinned',
      'x-codex-lab-profile': 'usedup',
    });
    expect(refused.status).toBe(429);
    const line = page.getByRole('log', { name: 'Activity log' }).locator('li', {
      hasText: /Refused session sess-pinned/,
    });
    await line.first().waitFor();
    expect(await line.first().innerText()).toContain(`until ${limitedAt} (in 2h 1`);
    // usedup made active: the pool's reason names its limit, in the browser's zone too.
    await card.getByRole('button', { name: 'Make active' }).click();
    await expect.poll(() => page.getByTestId('pool-next').innerText()).toContain(limitedAt);

    // The same page half an hour later: the lines count down (they are worded as shown).
    const later = await context.newPage();
    try {
      await later.clock.install();
      await openDashboard(later);
      const laterLine = later
        .getByRole('log', { name: 'Activity log' })
        .locator('li', { hasText: /Refused session sess-pinned/ })
        .first();
      const before = await laterLine.innerText();
      const pool = await later.getByTestId('pool-next').innerText();
      await later.clock.fastForward('30:00');
      await expect.poll(() => laterLine.innerText()).not.toBe(before);
      expect(await laterLine.innerText()).toContain(`until ${limitedAt} (in 1h 4`);
      await expect.poll(() => later.getByTestId('pool-next').innerText()).not.toBe(pool);
    } finally {
      await later.close();
    }
    await page.getByRole('button', { name: /Auto/ }).click();
  });

  it('labels sessions one way in every panel: the end of the id, which tells them apart', async () => {
    const ids = ['111111111111', '222222222222', '333333333333'].map(
      (end) => `0199a1b2-c3d4-7e5f-8a6b-${end}`,
    );
    for (const id of ids) {
      await turnThroughRouter(serve.url, serve.token, id, {
        session_id: id,
        'x-codex-lab-profile': id.endsWith('1') ? 'team' : 'work',
      });
    }
    await page.locator(`tr[data-session="${ids[2]}"]`).waitFor({ timeout: 20_000 });
    const live = await Promise.all(
      ids.map((id) => page.locator(`tr[data-session="${id}"] code`).innerText()),
    );
    expect(live).toEqual(['…11111111', '…22222222', '…33333333']);
    const filter = page.getByRole('combobox', { name: 'Filter by session' });
    const options = (await filter.locator('option').allInnerTexts()).slice(1);
    expect(new Set(options).size).toBe(options.length);
    for (const label of live) expect(options).toContain(label);
    const rows = await page
      .getByRole('table', { name: 'Request log' })
      .locator('tbody tr code')
      .allInnerTexts();
    for (const label of live) expect(rows).toContain(label);
  });

  it('follows a rename made in a terminal: the filter follows the new name, the rows carry it', async () => {
    const profileFilter = page.getByRole('combobox', { name: 'Filter by profile' });
    const rows = page.getByRole('table', { name: 'Request log' }).locator('tbody tr');
    await profileFilter.selectOption('team');
    await expect.poll(() => rows.count()).toBe(1);
    await codexLab('rename', 'team', 'squad');
    // Still filtered, on the same profile under its new name (not silently "All profiles").
    await expect.poll(() => profileFilter.inputValue()).toBe('squad');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getByTestId('request-profile').innerText()).toContain('squad');
    const totals = page.getByRole('table', { name: 'Requests and tokens per profile' });
    expect(await totals.innerText()).not.toContain('team');
    // The terminal agrees: team's turn from before the rename is squad's. The router writes its
    // journal in batches, later while it is busy (a sign-in's quota read): more than a second.
    await expect
      .poll(() => codexLab('log', '--profile', 'squad', '--wide'), { timeout: 15_000 })
      .toContain('0199a1b2-c3d4-7e5f-8a6b-111111111111');
  });

  it('keeps focus and an open Remove confirmation on a card renamed in a terminal', async () => {
    const card = (name: string) => page.locator(`article[data-profile="${name}"]`);
    await card('squad').getByRole('button', { name: 'Remove squad' }).click();
    const keep = card('squad').getByRole('button', { name: 'Keep' });
    await expect.poll(() => keep.evaluate((node) => node === document.activeElement)).toBe(true);
    await codexLab('rename', 'squad', 'crew');
    await card('crew').waitFor();
    const kept = card('crew').getByRole('button', { name: 'Keep' });
    expect(await kept.isVisible()).toBe(true);
    expect(await kept.evaluate((node) => node === document.activeElement)).toBe(true);
    await kept.click();
  });

  it('offers Add account with the name filled for a folder the registry does not list', async () => {
    const ghost = join(serve.home, 'auth-profiles', 'ghost');
    mkdirSync(ghost);
    // An account no listed profile holds (a copy of a listed one's is named as a copy instead).
    fake.addAccount({ email: 'ghost@example.com' });
    writeFileSync(
      join(ghost, 'auth.json'),
      JSON.stringify(issueAuthDotJson(fake, 'ghost@example.com')),
      { mode: 0o600 },
    );
    const problems = page.getByRole('alert', { name: 'Files Codex Lab cannot read' });
    await problems.getByRole('button', { name: 'Add account as ghost…' }).click();
    // The dashboard's way to list it again, not the command line's.
    expect(await problems.innerText()).not.toContain('codex-lab login');
    const name = page.getByRole('textbox', { name: 'Profile name' });
    await expect.poll(() => name.inputValue()).toBe('ghost');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    rmSync(ghost, { recursive: true });
    await problems.waitFor({ state: 'detached' });
  });

  // Last: it freezes serve for a while.
  it('notices a frozen serve: says it is not answering, ends a waiting action, and recovers', async () => {
    const refresh = page.getByRole('button', { name: /^Refresh(ing…| quota)$/ });
    const notAnswering = page.getByText(/Codex Lab is not answering/).first();
    // A stopped process keeps its sockets open: nothing errors, it just never answers.
    process.kill(serve.child.pid!, 'SIGSTOP');
    try {
      await refresh.click();
      await notAnswering.waitFor({ timeout: 40_000 });
      expect(await page.getByLabel('Router status').innerText()).toBe('Not connected');
      // No figure is shown as live while nothing can update it: each is the router's last.
      await page
        .getByText(/^Not connected — last known, as of /)
        .first()
        .waitFor();
      await expect.poll(() => refresh.innerText(), { timeout: 10_000 }).toBe('Refresh quota');
    } finally {
      process.kill(serve.child.pid!, 'SIGCONT');
    }
    await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor({ timeout: 30_000 });
    await notAnswering.waitFor({ state: 'detached' });
    await page
      .getByText(/^Not connected — last known/)
      .first()
      .waitFor({ state: 'detached' });
  });
});
