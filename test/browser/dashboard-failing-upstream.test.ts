/**
 * An account whose circuit the router opened, in real Chromium against the real `codex-lab serve`
 * and the fake ChatGPT: as soon as its turns have failed upstream (5xx while another account
 * serves), the dashboard, drawn from the live state, says it is failing upstream and when it is
 * tried again (on its card and on its row of the dense list), never "Ready", and names the
 * account new sessions really go to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  routerTurn,
  showAccountsAs,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;

/** A fresh page of the dashboard showing the accounts as `view`. */
async function openPage(view: 'cards' | 'list'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await showAccountsAs(context, view);
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  return page;
}

/** One turn pinned to `profile` by its header; its status. */
async function turnOn(profile: string, session: string): Promise<number> {
  return (await routerTurn(serve, session, { 'x-codex-lab-profile': profile })).status;
}

describe.skipIf(!hasChromium)('the dashboard and an account failing upstream', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    });
    serve = await startServe(
      {
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
      },
      async (home) => {
        await seedProfiles(fake, home, [
          { name: 'alpha', email: 'alpha@example.com' },
          { name: 'beta', email: 'beta@example.com' },
        ]);
      },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('says so on the card and the row, and sends new sessions elsewhere', async () => {
    // Both open before the failures: what they show next is pushed to them.
    const page = await openPage('cards');
    const list = await openPage('list');
    const badge = page.locator('article[data-profile="alpha"] .badge').last();
    await expect.poll(() => badge.textContent()).not.toMatch(/failing/i);

    expect(await turnOn('beta', 's-beta')).toBe(200);
    fake.account('alpha@example.com').stickyFailure = { kind: 'server_error', status: 500 };
    for (let attempt = 0; attempt < 3; attempt += 1)
      expect(await turnOn('alpha', 's-alpha')).toBe(500);

    // Pushed to the open page as the circuit opens, without a reload.
    await expect
      .poll(() => badge.textContent(), { timeout: 5000 })
      .toMatch(/^Failing upstream, tried again in \d+s$/);
    await expect
      .poll(() => page.getByTestId('pool-next').textContent())
      .toMatch(/New sessions → beta/);

    const tag = list.locator('li[data-profile-row="alpha"] .tag', { hasText: 'Failing upstream' });
    await tag.waitFor();
    expect(await tag.getAttribute('title')).toMatch(/^Failing upstream, tried again in \d+s$/);
    expect(await list.locator('li[data-profile-row="beta"]').textContent()).not.toMatch(/failing/i);
  });
});
