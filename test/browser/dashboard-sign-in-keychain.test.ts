/**
 * The dashboard's sign-in forms for a profile kept in the OS keychain, against a real `codex-lab
 * serve` with no keychain to reach (no D-Bus session): Sign in again is refused before any sign-in
 * page opens, and the dialog shows the sentence `codex-lab login NAME` gives (one check,
 * `ProfileStore.precheckSignIn`); Add account naming it is refused as a name taken, under the field.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

const noBus = 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service';
const refused = `vault keeps its tokens in the OS keychain, which is not available (${noBus}), so no sign-in was started: run Codex Lab in the desktop session whose keychain keeps it, then sign in again.`;

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const dialog = () => page.getByRole('dialog');

describe.skipIf(!hasChromium || process.platform !== 'linux')(
  'the dashboard signing in to a keychain profile without its keychain',
  () => {
    beforeAll(async () => {
      buildRenderer();
      fake = await startFakeChatGpt({ accounts: [{ email: 'alice@example.com' }] });
      serve = await startServe(
        {
          CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
          CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
          // No session bus: the system keychain cannot be reached, as in a bare SSH session.
          DBUS_SESSION_BUS_ADDRESS: '',
        },
        async (home) => {
          await seedProfiles(fake, home, [{ name: 'vault', email: 'alice@example.com' }]);
          // Kept in the keychain: the registry says so, and no auth.json is in its folder.
          const registryPath = join(home, 'auth-profiles.json');
          const registry = JSON.parse(readFileSync(registryPath, 'utf8')) as {
            profiles: Array<Record<string, unknown>>;
          };
          registry.profiles[0]!['store'] = 'keyring';
          writeFileSync(registryPath, JSON.stringify(registry));
          rmSync(join(home, 'auth-profiles', 'vault', 'auth.json'));
        },
      );
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      await page.goto(`${serve.url}/ui/#token=${serve.token}`);
      await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
    });

    afterAll(async () => {
      await browser?.close();
      await serve?.stop();
      await fake?.close();
    });

    it('Sign in again is refused before any page opens, saying why in the dialog', async () => {
      const card = page.getByRole('article', { name: 'Profile vault' });
      await card.getByRole('button', { name: 'Sign in again' }).click();
      await page.getByRole('dialog', { name: 'Sign in to vault again' }).waitFor();
      const pagesBefore = context.pages().length;
      await dialog().getByRole('button', { name: 'Continue to sign-in' }).click();
      const error = dialog().getByRole('alert');
      await error.waitFor();
      expect(await error.textContent()).toBe(refused);
      expect(context.pages().length).toBe(pagesBefore);
      await dialog().getByRole('button', { name: 'Close' }).click();
    });

    it('Add account naming it is refused as a name taken, which needs no keychain to say', async () => {
      await page.getByRole('button', { name: 'Add account…' }).first().click();
      const field = dialog().getByRole('textbox', { name: 'Profile name' });
      await field.fill('vault');
      const pagesBefore = context.pages().length;
      await dialog().getByRole('button', { name: 'Continue to sign-in' }).click();
      const error = dialog().getByRole('alert');
      await error.waitFor();
      expect(await error.textContent()).toBe(
        'vault is alice@example.com’s profile: to renew it, use “Sign in again” on its card; for another account, pick another name.',
      );
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(context.pages().length).toBe(pagesBefore);
      await dialog().getByRole('button', { name: 'Close' }).click();
    });
  },
);
