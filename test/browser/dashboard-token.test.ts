/**
 * Issue 8, done when: the dashboard opened from the link that `serve` prints stays connected
 * after a reload (the token is kept for the browser tab, in sessionStorage, and never in the
 * address bar), and opened without a token it offers a field to paste one. Real Chromium against
 * the real `codex-lab serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;

describe.skipIf(!hasChromium)('dashboard token', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({ accounts: [{ email: 'work@example.com' }] });
    serve = await startServe(
      { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl },
      async (home) => {
        await seedProfiles(fake, home, [{ name: 'work', email: 'work@example.com' }]);
      },
      ['--print-dashboard-url'],
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('the printed link stays connected after a reload; without a token the page takes a pasted one', async () => {
    const link = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/ui\/#token=\S+)/.exec(serve.output())?.[1];
    expect(link).toBe(`${serve.url}/ui/#token=${serve.token}`);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link!);
    const status = page.getByLabel('Router status');
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);
    // The token left the address bar at once.
    expect(page.url()).toBe(`${serve.url}/ui/`);
    await page.reload();
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);
    await context.close();

    // A fresh tab without the token: a field to paste it, then connected.
    const fresh = await browser.newContext();
    const bare = await fresh.newPage();
    await bare.goto(`${serve.url}/ui/`);
    const field = bare.getByLabel(/Paste the router token/);
    await field.waitFor({ timeout: 20_000 });
    // Nothing is connected: no account can be added yet.
    const addAccount = bare.getByRole('button', { name: 'Add account…' });
    expect(await addAccount.isDisabled()).toBe(true);
    // A wrong token pasted: the page talks about that token, not about a link.
    await field.fill('not-the-router-token');
    await bare.getByRole('button', { name: 'Connect' }).click();
    await expect
      .poll(() => bare.getByRole('alert').first().textContent(), { timeout: 20_000 })
      .toBe(
        'The token you pasted is not the router token of this Codex Lab. Paste the one `codex-lab token` prints.',
      );
    expect(await addAccount.isDisabled()).toBe(true);
    await field.fill(serve.token);
    await bare.getByRole('button', { name: 'Connect' }).click();
    await expect
      .poll(() => bare.getByLabel('Router status').textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);
    await fresh.close();
  });

  // Last in this file: it stops the shared serve.
  it('says it is not connected while serve is down, is live again once serve is back, and shows a sign-in the restart forgot as interrupted', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
    const status = page.getByLabel('Router status');
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);

    const home = serve.home;
    const exited = new Promise((resolve) => serve.child.once('exit', resolve));
    serve.child.kill('SIGTERM');
    await exited;
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe('Not connected');
    await expect
      .poll(() => page.getByRole('alert').first().textContent(), { timeout: 5_000 })
      .toBe(
        'Codex Lab is not answering. Is `codex-lab serve` still running? What the page shows is its last answer; it reconnects by itself.',
      );
    // An action tried now fails the same way: the page still says so once, not twice.
    const refresh = page.getByRole('button', { name: /Refresh quota|Refreshing/ });
    await refresh.click();
    await expect.poll(() => refresh.textContent(), { timeout: 10_000 }).toBe('Refresh quota');
    expect(await page.getByRole('alert').allTextContents()).toEqual([
      'Codex Lab is not answering. Is `codex-lab serve` still running? What the page shows is its last answer; it reconnects by itself.',
    ]);
    expect(await page.getByRole('button', { name: 'Add account…' }).first().isDisabled()).toBe(
      true,
    );
    // A rename tried now fails under its field, and only there, until serve is back.
    await page.getByRole('button', { name: 'Rename work', exact: true }).click();
    const field = page.getByRole('textbox', { name: 'New name for work', exact: true });
    await field.fill('job');
    await field.press('Enter');
    await expect.poll(() => field.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');

    // The same home on the same port, as a user restarting it: the page's token still holds.
    const restart = () =>
      startServe(
        {
          CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
          CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
          CODEX_LAB_HOME: home,
        },
        undefined,
        ['--port', new URL(serve.url).port],
      );
    let again = await restart();
    try {
      await expect
        .poll(() => status.textContent(), { timeout: 30_000 })
        .toBe(`Router on ${serve.url}`);
      // Every "not answering" is over, the rename field's included; the form stays open.
      await expect.poll(() => page.getByRole('alert').count(), { timeout: 5_000 }).toBe(0);
      expect(await field.getAttribute('aria-invalid')).toBeNull();
      expect(await field.inputValue()).toBe('job');
      await field.press('Escape');

      // A sign-in under way when serve restarts: the new serve does not know it, and the dialog
      // says so instead of waiting forever. (The sign-in page never loads, so it stays waiting.)
      await context.route(`${fake.issuerUrl}/**`, (route) => route.abort());
      await page.getByRole('button', { name: 'Add account…' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
      await dialog.getByRole('radio', { name: 'In a new tab' }).check();
      await dialog.getByRole('button', { name: 'Continue to sign-in' }).click();
      await dialog.getByRole('status', { name: 'Sign-in progress' }).waitFor({ timeout: 20_000 });
      // (Its own stop leaves the shared home: the folder it made for itself is the one removed.)
      await again.stop();
      again = await restart();
      const interrupted = dialog.getByRole('alert');
      await interrupted.waitFor({ timeout: 30_000 });
      expect(await interrupted.textContent()).toBe(
        'This sign-in was interrupted: Codex Lab restarted before it finished. Start it again.',
      );
      await dialog.getByRole('button', { name: 'Try again' }).click();
      await dialog.getByRole('button', { name: 'Continue to sign-in' }).waitFor();
    } finally {
      await context.close();
      await again.stop();
    }
  });
});
