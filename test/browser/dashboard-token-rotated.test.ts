/**
 * A dashboard opened with a token that `codex-lab token --rotate --revoke-old` then refuses: the
 * page says in one sentence how to get a new link, instead of a blank page or "it reconnects by
 * itself". Real Chromium against the real `codex-lab serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { runCodexLab } from '../helpers/cli.ts';
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

describe.skipIf(!hasChromium)('dashboard after a token rotation', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({ accounts: [{ email: 'work@example.com' }] });
    serve = await startServe(
      { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl },
      async (home) => {
        await seedProfiles(fake, home, [{ name: 'work', email: 'work@example.com' }]);
      },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('once the old token is refused, says in one sentence to get a new link with codex-lab dashboard', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
    const status = page.getByLabel('Router status');
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);

    const rotated = await runCodexLab(['token', '--rotate', '--revoke-old'], {
      home: serve.home,
      env: { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
    });
    expect(rotated.code).toBe(0);

    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe('Not connected');
    await expect
      .poll(() => page.getByRole('alert').allTextContents(), { timeout: 10_000 })
      .toEqual([
        'This dashboard link’s token is not accepted (it may have been replaced): get a new link with `codex-lab dashboard`.',
      ]);
    await context.close();
  });
});
