/**
 * "Refresh quota" over 20 accounts that cannot all be read, in real Chromium against the real
 * `codex-lab serve` and the fake ChatGPT: `work` limited, `client-acme-long-project-name` needing
 * a new sign-in, `research` with an auth file that does not parse. The readable accounts are
 * refreshed and the page says so; no red banner fails the whole refresh, and the unreadable
 * file's sentence shows once (in the problems box), not again in a refresh banner.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, scriptRefresh } from '../fakes/fake-issuer.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

const signIn = 'client-acme-long-project-name';
const names = [
  'work',
  signIn,
  'research',
  ...Array.from({ length: 17 }, (_, index) => `acct-${index + 1}`),
];

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let page: Page;

/** How often `text` occurs in `haystack`. */
function count(haystack: string, text: string): number {
  return haystack.split(text).length - 1;
}

describe.skipIf(!hasChromium)('Refresh quota over accounts that cannot all be read', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: names.map((name) => ({ email: `${name}@example.com` })),
    });
    fake.account('work@example.com').primary!.usedPercent = 100;
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        await seedProfiles(
          fake,
          home,
          names.map((name) => ({ name, email: `${name}@example.com` })),
        );
        for (let time = 0; time < 4; time++) {
          scriptRefresh(fake, `${signIn}@example.com`, 'refresh_token_invalidated');
        }
        expireAccessTokens(fake, `${signIn}@example.com`);
        await writeFile(join(home, 'auth-profiles', 'research', 'auth.json'), '{ not json');
      },
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
    await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('says the readable accounts were refreshed, and names each unreadable one once', async () => {
    const fileSentence = 'auth.json is not valid JSON';
    await expect
      .poll(() => page.locator('body').innerText(), { timeout: 20_000 })
      .toContain(fileSentence);
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    await expect
      .poll(() => page.getByRole('status', { name: 'Quota refresh' }).innerText(), {
        timeout: 20_000,
      })
      .toBe('Quota refreshed for 18 of 20 accounts; the others cannot be read now.');
    // No banner fails the whole refresh for the two accounts whose state says why already.
    expect(await page.locator('.notice', { hasText: 'Refresh quota' }).count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(count(text, fileSentence)).toBe(1);
    expect(count(text, `${signIn}: ${signIn}`)).toBe(0);
    // The account that needs a sign-in says so where it is listed.
    await expect
      .poll(() => page.locator('body').innerText())
      .toMatch(new RegExp(`${signIn}\\s+[^\\n]*\\n?\\s*Needs sign-in`, 'i'));
  });
});
