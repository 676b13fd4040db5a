/**
 * The settings page in real Chromium, served by the real `codex-lab serve` against the fake
 * ChatGPT: sign in through the popup, rename, make active, priming, quota bars, a live session,
 * and a fallback in the activity log. Also takes the light and dark screenshots: into
 * docs/screenshots/ with CODEX_LAB_UPDATE_SCREENSHOTS=1, else into a temporary folder removed after
 * the test, so a test run never rewrites committed files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { setNextLogin } from '../fakes/fake-issuer.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  routerTurn,
  screenshotFolder,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
/** Every URL the page asked for, to prove the token never travels in one. */
const requestedUrls: string[] = [];

async function signIn(email: string): Promise<void> {
  setNextLogin(fake, email);
  await page.getByRole('button', { name: 'Add account…' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
  await expect.poll(() => dialog.isVisible()).toBe(true);
  await dialog.getByRole('radio', { name: 'In a small sign-in window' }).check();
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    dialog.getByRole('button', { name: 'Continue to sign-in' }).click(),
  ]);
  // The fake issuer approves and redirects the popup to the loopback callback, which shows /success.
  await popup.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/(auth\/callback|success)/, {
    timeout: 20_000,
  });
  const result = dialog.getByRole('status', { name: 'Sign-in result' });
  await result.waitFor({ timeout: 20_000 });
  expect(await result.textContent()).toContain('Saved as');
  await popup.close().catch(() => undefined);
  await dialog.getByRole('button', { name: 'Done' }).click();
}

describe.skipIf(!hasChromium)('web dashboard against codex-lab serve', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
    });
    const alice = fake.account('alice@example.com');
    alice.primary!.usedPercent = 12;
    alice.secondary!.usedPercent = 40;
    alice.usagePerTurn = 0;
    serve = await startServe({
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      // The serve log at its default level, to see the fallback line a person running it reads.
      CODEX_LAB_LOG_LEVEL: 'info',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    page.on('request', (request) => requestedUrls.push(request.url()));
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('reads the token from the fragment and wipes it from the address bar', async () => {
    await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
    expect(page.url()).toBe(`${serve.url}/ui/`);
    expect(page.url()).not.toContain(serve.token);
  });

  it('adds an account through the sign-in popup, with a name from the email', async () => {
    await signIn('alice@example.com');
    const card = page.getByRole('article', { name: 'Profile alice' });
    await card.waitFor();
    // The usage read right after sign-in: quota and the history's first reading, without a
    // Refresh (the background poll is 20 s after start: 5 s here proves it is the read after
    // sign-in). One reading is not yet a chart: the card says when it starts.
    await card.getByText('History starts with the next reading.').waitFor({ timeout: 5_000 });
    // The fake's 5-hour window is 12 % used: the card says what is left.
    expect(await card.getByTestId('quota-value').first().textContent()).toBe('88% left');
  });

  it('renames it in place', async () => {
    await page.getByRole('button', { name: 'Rename alice' }).click();
    await page.getByRole('textbox', { name: 'New name for alice' }).fill('work');
    await page.keyboard.press('Enter');
    await page.getByRole('article', { name: 'Profile work' }).waitFor();
    expect(await page.getByRole('article', { name: 'Profile alice' }).count()).toBe(0);
  });

  it('makes it active', async () => {
    const card = page.getByRole('article', { name: 'Profile work' });
    await card.getByRole('button', { name: 'Make active' }).click();
    await card.getByText('Active', { exact: true }).waitFor();
    expect(
      await page.getByRole('button', { name: 'Auto (best account)' }).getAttribute('aria-pressed'),
    ).toBe('false');
  });

  it('turns priming on', async () => {
    const toggle = page.getByRole('switch', { name: 'Priming for work' });
    // Controlled by the service's state: the switch flips when the new state arrives.
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(true);
  });

  it('shows quota bars of what is left that match the fake upstream', async () => {
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    // The fake reports 12 % and 40 % used: the bars hold what is left.
    const fiveHour = page.getByRole('progressbar', { name: 'work 5-hour window' });
    const weekly = page.getByRole('progressbar', { name: 'work Weekly window' });
    await expect.poll(() => fiveHour.getAttribute('aria-valuenow'), { timeout: 20_000 }).toBe('88');
    await expect.poll(() => weekly.getAttribute('aria-valuenow')).toBe('60');
    expect(await fiveHour.getAttribute('aria-valuetext')).toMatch(
      /^88% left, resets \d\d:\d\d \(in \dh/,
    );
  });

  it('shows a session with its profile after a request through the router', async () => {
    const response = await routerTurn(serve, 'ui-session-1');
    expect(response.headers.get('x-codex-lab-profile')).toBe('work');
    const row = page.locator('tr[data-session="ui-session-1"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getByTestId('session-profile').textContent()).toBe('work');
  });

  it('shows a fallback in the activity log when the active account hits its limit', async () => {
    await signIn('bob@example.com');
    await page.getByRole('article', { name: 'Profile bob' }).waitFor();
    fake.account('alice@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const response = await routerTurn(serve, 'ui-session-2');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('bob');
    const log = page.getByRole('log', { name: 'Activity log' });
    await log.locator('[data-kind="fallback"]').first().waitFor({ timeout: 20_000 });
    // One info line for the fallback in the serve log (JSON lines: stderr is not a terminal).
    const fallbackLines = serve
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"fallback: ui-session-2 moved to bob'));
    expect(fallbackLines).toHaveLength(1);
    expect(JSON.parse(fallbackLines[0]!)).toMatchObject({ level: 30, profile: 'bob' });
    // The limited card says, in words, until when.
    await page
      .getByRole('article', { name: 'Profile work' })
      .getByRole('status')
      .getByText(/back in (\d+m|1h), at \d\d:\d\d/)
      .waitFor({ timeout: 20_000 });
  });

  it('has light and dark looks (screenshots for the docs)', async () => {
    const folder = screenshotFolder();
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    await page.emulateMedia({ colorScheme: 'light' });
    await page
      .getByRole('radiogroup', { name: 'Theme' })
      .getByRole('radio', { name: 'Auto' })
      .click();
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: join(folder, 'settings-light.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await page
      .getByRole('radiogroup', { name: 'Theme' })
      .getByRole('radio', { name: 'Dark' })
      .click();
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(22, 24, 29)');
    await page.screenshot({
      path: join(folder, 'settings-dark.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await page
      .getByRole('radiogroup', { name: 'Theme' })
      .getByRole('radio', { name: 'Light' })
      .click();
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(245, 246, 248)',
    );
  });

  it('moves the theme radio group with the arrow keys, with one Tab stop', async () => {
    const group = page.getByRole('radiogroup', { name: 'Theme' });
    const radios = group.getByRole('radio');
    expect(await radios.evaluateAll((all) => all.map((each) => each.tabIndex))).toEqual([
      -1, 0, -1,
    ]);
    await group.getByRole('radio', { name: 'Light' }).focus();
    await page.keyboard.press('ArrowRight');
    const dark = group.getByRole('radio', { name: 'Dark' });
    await expect.poll(() => dark.getAttribute('aria-checked')).toBe('true');
    expect(await dark.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await dark.evaluate((element) => element.matches(':focus-visible'))).toBe(true);
    await page.keyboard.press('Home');
    await expect
      .poll(() => group.getByRole('radio', { name: 'Auto' }).getAttribute('aria-checked'))
      .toBe('true');
    await group.getByRole('radio', { name: 'Light' }).click();
  });

  it('asks before removing what it takes with it, and keeps keyboard focus on the way', async () => {
    // work is the active profile (made active above): removing it sends new sessions to Auto.
    const card = page.getByRole('article', { name: 'Profile work' });
    const remove = card.getByRole('button', { name: 'Remove work' });
    await remove.focus();
    await page.keyboard.press('Enter');
    const confirm = card.getByRole('group', { name: 'Confirm removing work' });
    expect(await confirm.textContent()).toContain(
      'Remove work? New sessions go back to Auto; other profiles stay.',
    );
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? null);
    await expect.poll(focused).toBe('Keep');
    await page.keyboard.press('Escape');
    await expect.poll(() => confirm.count()).toBe(0);
    await expect.poll(focused).toBe('Remove…');
  });

  it('never puts the router token in a URL the page requests, and the API refuses it there', async () => {
    expect(requestedUrls.some((url) => url.includes('/lab/v1/'))).toBe(true);
    for (const url of requestedUrls) {
      expect(url).not.toContain(serve.token);
      expect(new URL(url).search).not.toMatch(/token/i);
    }
    const inQuery = await fetch(
      `${serve.url}/lab/v1/state?token=${encodeURIComponent(serve.token)}`,
    );
    expect(inQuery.status).toBe(401);
    await inQuery.body?.cancel();
  });

  it('never sends an account token to the page', async () => {
    const secrets: string[] = [];
    const profiles = join(serve.home, 'auth-profiles');
    for (const name of readdirSync(profiles)) {
      const auth = JSON.parse(readFileSync(join(profiles, name, 'auth.json'), 'utf8')) as {
        tokens: Record<string, string | null>;
      };
      for (const key of ['access_token', 'refresh_token', 'id_token'])
        if (auth.tokens[key]) secrets.push(auth.tokens[key]!);
    }
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const html = await page.content();
    const answer = await fetch(`${serve.url}/lab/v1/state`, {
      headers: { authorization: `Bearer ${serve.token}` },
    });
    const body = await answer.text();
    for (const secret of secrets) {
      expect(body).not.toContain(secret);
      expect(html).not.toContain(secret);
    }
  });

  it('never shows a token in the page', async () => {
    const html = await page.content();
    expect(html).not.toContain(serve.token);
    expect(html).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./);
  });
});
