/**
 * The dashboard as a newcomer meets it, in real Chromium against the real `codex-lab serve` and
 * the fake ChatGPT: sign-in with a one-time code and with a pasted callback address (the browser
 * that approves is not on the box where `serve` runs), pins that survive a reload, a layout that
 * fits 400 px and 1280 px without sideways scrolling, and the small truths (busy Refresh, the
 * re-authentication title, distinct session labels, a favicon, a name on every button), and
 * Tab kept inside the open Add account dialog. Takes the
 * 400 px screenshot into docs/screenshots/ with CODEX_LAB_UPDATE_SCREENSHOTS=1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
import { tempFolder } from '../helpers/temp-folder.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Callback addresses the (blocked) loopback would have received: the box is "remote". */
const blockedCallbacks: string[] = [];

/** Two UUIDv7-like session ids from the same millisecond: they differ only at the end. */
const sessionA = '019a7c3e-8f10-7000-8000-00000000aa11';
const sessionB = '019a7c3e-8f10-7000-8000-00000000bb22';

async function openDashboard(): Promise<void> {
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
}

function dialog() {
  return page.getByRole('dialog');
}

/** What has keyboard focus: its aria-label or its text; BODY when nothing has. */
function focused(): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'BODY';
    return element.getAttribute('aria-label') || element.textContent?.trim() || element.tagName;
  });
}

async function noSidewaysScroll(): Promise<{ scroll: number; width: number }> {
  return page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
}

describe.skipIf(!hasChromium)('the dashboard for a newcomer', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'alice@example.com' }, { email: 'robert.longname@example.com' }],
    });
    serve = await startServe({
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // The browser runs "on another computer": its localhost is not the box where serve runs, so
    // the issuer's redirect to the loopback callback never arrives. The address is kept to paste.
    // The issuer's approval redirects there, and a browser elsewhere shows "can't be reached" at
    // that address. (Playwright routes only the first request of a redirect chain, so the
    // authorize request is fetched here without following the redirect.)
    await context.route(
      (url) => url.pathname === '/oauth/authorize',
      async (route) => {
        const answer = await route.fetch({ maxRedirects: 0 });
        const location = answer.headers()['location'];
        if (location) blockedCallbacks.push(location);
        await route.fulfill({
          status: 200,
          contentType: 'text/plain',
          body: "This site can't be reached: localhost refused to connect.",
        });
      },
    );
    page = await context.newPage();
    await openDashboard();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('with no account yet, offers neither a quota refresh nor who new sessions go to', async () => {
    await page.getByText('No accounts yet', { exact: false }).waitFor();
    expect(await page.getByRole('button', { name: 'Refresh quota' }).count()).toBe(0);
    expect(await page.getByTestId('sessions-next').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain('none can take one now');
  });

  it('signs in with a one-time code (device flow) and says which account and profile were saved', async () => {
    setNextLogin(fake, 'alice@example.com');
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    await dialog()
      .getByRole('radio', { name: /With a one-time code/ })
      .check();
    const [issuerPage] = await Promise.all([
      context.waitForEvent('page'),
      dialog().getByRole('button', { name: 'Continue to sign-in' }).click(),
    ]);
    const code = dialog().getByLabel('One-time code');
    await code.waitFor();
    expect(await code.textContent()).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(issuerPage.url()).toBe(`${fake.issuerUrl}/codex/device`);
    await issuerPage.close();
    const result = dialog().getByRole('status', { name: 'Sign-in result' });
    await result.waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toContain(
      'Signed in as alice@example.com. Saved as profile alice.',
    );
    await dialog().getByRole('button', { name: 'Done' }).click();
    await page.getByRole('article', { name: 'Profile alice' }).waitFor();
  });

  it('finishes a browser sign-in from a pasted callback address; a wrong state or issuer saves nothing', async () => {
    const paste = dialog().getByRole('textbox', { name: 'Callback address' });
    const finish = dialog().getByRole('button', { name: 'Finish sign-in' });
    const continueToSignIn = async (): Promise<URL> => {
      setNextLogin(fake, 'robert.longname@example.com');
      const seen = blockedCallbacks.length;
      const [tab] = await Promise.all([
        context.waitForEvent('page'),
        dialog().getByRole('button', { name: 'Continue to sign-in' }).click(),
      ]);
      await expect.poll(() => blockedCallbacks.length, { timeout: 20_000 }).toBe(seen + 1);
      await tab.close();
      // The form that had focus is gone: focus is on what replaced it, not on <body>.
      expect(await focused()).toBe('Sign-in progress');
      return new URL(blockedCallbacks[seen]!);
    };
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    await dialog().getByRole('radio', { name: 'In a new tab' }).check();

    // The code rewritten on its way: the issuer refuses it. The dialog says what went wrong with
    // its own fix (no command, one full stop), and focus is on that fix.
    const forged = await continueToSignIn();
    forged.searchParams.set('code', 'forged');
    await paste.fill(forged.toString());
    await finish.click();
    const ended = dialog().getByRole('alert');
    await expect
      .poll(() => ended.textContent(), { timeout: 20_000 })
      .toBe(
        'Sign-in failed: token endpoint returned status 400: Invalid or already used authorization code. Nothing was saved: try again.',
      );
    await expect.poll(focused).toBe('Try again');
    await page.keyboard.press('Enter');
    await expect.poll(focused).toBe('Profile name');

    const address = await continueToSignIn();

    const wrongState = new URL(address);
    wrongState.searchParams.set('state', 'someone-elses-state');
    await paste.fill(wrongState.toString());
    await finish.click();
    const alert = dialog().getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toBe(
        "That address belongs to another sign-in (its state does not match this one), so nothing was saved: paste the address from this sign-in's tab.",
      );
    const otherIssuer = new URL(address);
    otherIssuer.searchParams.set('iss', 'https://issuer.invalid');
    await paste.fill(otherIssuer.toString());
    await finish.click();
    await expect.poll(() => alert.textContent()).toMatch(/^That address comes from another issuer/);
    expect(await page.getByRole('article', { name: 'Profile robert.longname' }).count()).toBe(0);

    await paste.fill(address.toString());
    await finish.click();
    const result = dialog().getByRole('status', { name: 'Sign-in result' });
    await result.waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toContain(
      'Signed in as robert.longname@example.com. Saved as profile robert.longname.',
    );
    expect(await focused()).toBe('Done');
    await dialog().getByRole('button', { name: 'Done' }).click();
    await page.getByRole('article', { name: 'Profile robert.longname' }).waitFor();
  });

  it('keeps Tab and Shift+Tab inside the open Add account dialog; Escape returns to the opener', async () => {
    await openDashboard();
    const opener = page.getByRole('button', { name: 'Add account…' }).first();
    await opener.focus();
    await page.keyboard.press('Enter');
    await dialog().waitFor();
    const inDialog = () =>
      page.evaluate(() => document.activeElement?.closest('dialog[open]') !== null);
    const stops: string[] = [await focused()];
    for (let step = 0; step < 8; step += 1) {
      await page.keyboard.press('Tab');
      expect(await inDialog(), `Tab ${step + 1} left the dialog for ${await focused()}`).toBe(true);
      stops.push(await focused());
    }
    // Round and round: Close is followed by the first field again.
    const close = stops.indexOf('Close');
    expect(close).toBeGreaterThan(0);
    expect(stops[close + 1]).toBe(stops[0]);
    for (let step = 0; step < 8; step += 1) {
      await page.keyboard.press('Shift+Tab');
      expect(await inDialog(), `Shift+Tab ${step + 1} left the dialog`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
    expect(await opener.evaluate((element) => element === document.activeElement)).toBe(true);
  });

  it('titles the re-authentication dialog for the profile', async () => {
    const card = page.getByRole('article', { name: 'Profile alice' });
    await card.getByRole('button', { name: 'Sign in again' }).click();
    await page.getByRole('dialog', { name: 'Sign in to alice again' }).waitFor();
    await dialog().getByRole('button', { name: 'Close' }).click();
  });

  it('says a sign-in again renewed the profile, naming it, rather than saved a new one', async () => {
    setNextLogin(fake, 'alice@example.com');
    const card = page.getByRole('article', { name: 'Profile alice' });
    await card.getByRole('button', { name: 'Sign in again' }).click();
    await dialog()
      .getByRole('radio', { name: /With a one-time code/ })
      .check();
    const [issuerPage] = await Promise.all([
      context.waitForEvent('page'),
      dialog().getByRole('button', { name: 'Continue to sign-in' }).click(),
    ]);
    await issuerPage.close();
    const result = dialog().getByRole('status', { name: 'Sign-in result' });
    await result.waitFor({ timeout: 20_000 });
    const text = await result.textContent();
    expect(text).toContain('Signed in as alice@example.com. The sign-in of alice was renewed.');
    expect(text).not.toContain('Saved as');
    await dialog().getByRole('button', { name: 'Done' }).click();
    expect(await page.getByRole('article', { name: /^Profile alice/ }).count()).toBe(1);
  });

  it('refuses a name another profile has before any sign-in starts, under the name field', async () => {
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    const field = dialog().getByRole('textbox', { name: 'Profile name' });
    // Read as every typed name is: `Alice` is alice.
    await field.fill('Alice');
    const pagesBefore = context.pages().length;
    await dialog().getByRole('button', { name: 'Continue to sign-in' }).click();
    const error = dialog().getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      'alice is alice@example.com’s profile: to renew it, use “Sign in again” on its card; for another account, pick another name.',
    );
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    // Under the field, before the choice of page.
    const fieldBox = (await field.boundingBox())!;
    const errorBox = (await error.boundingBox())!;
    const methods = (await dialog()
      .getByRole('group', { name: 'Open the sign-in page' })
      .boundingBox())!;
    expect(errorBox.y).toBeGreaterThanOrEqual(fieldBox.y + fieldBox.height - 1);
    expect(errorBox.y + errorBox.height).toBeLessThanOrEqual(methods.y + 1);
    // Nothing was started: no sign-in page, the form still there.
    expect(context.pages().length).toBe(pagesBefore);
    await dialog().getByRole('button', { name: 'Continue to sign-in' }).waitFor();
    // Editing the name clears the sentence.
    await field.fill('alice-work');
    expect(await dialog().getByRole('alert').count()).toBe(0);
    await dialog().getByRole('button', { name: 'Close' }).click();
  });

  it('shows the full email on hover', async () => {
    const card = page.getByRole('article', { name: 'Profile robert.longname' });
    expect(await card.getByText('robert.longname@example.com').getAttribute('title')).toBe(
      'robert.longname@example.com',
    );
  });

  it('shows Refresh as busy, then done', async () => {
    const button = page.getByRole('button', { name: /Refresh quota|Refreshing/ });
    await button.click();
    await page
      .getByRole('status', { name: 'Quota refresh' })
      .getByText('Quota refreshed.')
      .waitFor({ timeout: 20_000 });
  });

  it('labels two sessions of the same millisecond apart', async () => {
    await routerTurn(serve, sessionA);
    await routerTurn(serve, sessionB);
    const rowA = page.locator(`tr[data-session="${sessionA}"]`);
    const rowB = page.locator(`tr[data-session="${sessionB}"]`);
    await rowA.waitFor({ timeout: 20_000 });
    await rowB.waitFor({ timeout: 20_000 });
    const labelA = await rowA.locator('code').textContent();
    const labelB = await rowB.locator('code').textContent();
    expect(labelA).not.toBe(labelB);
    expect(labelA).toContain('aa11');
  });

  it('adds a repository pin and a session pin that both still show after a reload', async () => {
    const repo = tempFolder('codex-lab-pinned-repo-');
    // A git repository: the folder Codex names, which a repo pin must name.
    mkdirSync(join(repo, '.git'));
    await page.getByRole('textbox', { name: 'Repository path' }).fill(repo);
    await page
      .getByRole('combobox', { name: 'Profile for the repository' })
      .selectOption('robert.longname');
    await page.getByRole('button', { name: 'Pin repository' }).click();
    const pins = page.getByRole('table', { name: 'Pins' });
    await pins.locator(`tr[data-pin="${repo}"]`).waitFor();

    const select = page.getByRole('combobox', { name: /^Pin session …\w*aa11 to/ });
    await select.selectOption('alice');
    await expect.poll(() => select.inputValue()).toBe('alice');

    await openDashboard();
    const row = page.getByRole('table', { name: 'Pins' }).locator(`tr[data-pin="${repo}"]`);
    await row.waitFor();
    expect(await row.getByTestId('pin-profile').textContent()).toBe('robert.longname');
    expect(
      await page.getByRole('combobox', { name: /^Pin session …\w*aa11 to/ }).inputValue(),
    ).toBe('alice');
    expect(
      await page.getByRole('table', { name: 'Pins' }).locator(`tr[data-pin="${sessionA}"]`).count(),
    ).toBe(1);

    await row.getByRole('button', { name: `Remove the pin of ${repo}` }).click();
    await expect.poll(() => row.count()).toBe(0);
  });

  it('a malformed repository path is one sentence and nothing is pinned', async () => {
    const field = page.getByRole('textbox', { name: 'Repository path' });
    await field.fill('relative/path');
    await page.getByRole('button', { name: 'Pin repository' }).click();
    // Under the field it is about (inline forms say why there, not in the page's notice).
    const alert = page.getByRole('region', { name: 'Pins' }).getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toMatch(/^"relative\/path" is not an absolute path[^.]*\.$/);
    expect(await field.getAttribute('aria-describedby')).toBe(await alert.getAttribute('id'));
    expect(await page.locator('tr[data-pin="relative/path"]').count()).toBe(0);
    await field.fill('');
  });

  it('pins to the profile its form shows, after the chosen one was renamed', async () => {
    const repo = tempFolder('codex-lab-renamed-pin-');
    // A git repository: the folder Codex names, which a repo pin must name.
    mkdirSync(join(repo, '.git'));
    const choice = page.getByRole('combobox', { name: 'Profile for the repository' });
    await choice.selectOption('robert.longname');
    await page.getByRole('button', { name: 'Rename robert.longname' }).click();
    await page.getByRole('textbox', { name: 'New name for robert.longname' }).fill('robert');
    await page.keyboard.press('Enter');
    await page.getByRole('article', { name: 'Profile robert', exact: true }).waitFor();
    // The chosen name is gone: the select shows the first profile, and that is what is pinned.
    const shown = await choice.inputValue();
    expect(shown).toBe('alice');
    await page.getByRole('textbox', { name: 'Repository path' }).fill(repo);
    await page.getByRole('button', { name: 'Pin repository' }).click();
    const row = page.getByRole('table', { name: 'Pins' }).locator(`tr[data-pin="${repo}"]`);
    await row.waitFor();
    expect(await row.getByTestId('pin-profile').textContent()).toBe(shown);
    await row.getByRole('button', { name: `Remove the pin of ${repo}` }).click();
    await expect.poll(() => row.count()).toBe(0);
    // Back as it was, for the tests after this one.
    await page.getByRole('button', { name: 'Rename robert', exact: true }).click();
    await page
      .getByRole('textbox', { name: 'New name for robert', exact: true })
      .fill('robert.longname');
    await page.keyboard.press('Enter');
    await page.getByRole('article', { name: 'Profile robert.longname' }).waitFor();
  });

  it('names a registry that stops parsing instead of showing "No accounts yet", and recovers when it is mended', async () => {
    const registryPath = join(serve.home, 'auth-profiles.json');
    const good = readFileSync(registryPath, 'utf8');
    writeFileSync(registryPath, '{"version":1,"profiles":[{"name":');
    const alert = page.getByRole('alert', { name: 'Files Codex Lab cannot read' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain(`${registryPath} is not valid JSON`);
    expect(await page.getByText('No accounts yet').count()).toBe(0);
    writeFileSync(registryPath, good);
    await alert.waitFor({ state: 'detached' });
    await page.getByRole('article', { name: 'Profile alice' }).waitFor();
  });

  it('has a favicon and a name on every button', async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const icon = await fetch(new URL(href!, `${serve.url}/ui/`));
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    await icon.body?.cancel();
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button')]
        .filter((button) => button.offsetParent !== null)
        .filter(
          (button) => (button.getAttribute('aria-label') ?? button.textContent ?? '').trim() === '',
        )
        .map((button) => button.outerHTML),
    );
    expect(unnamed).toEqual([]);
  });

  for (const width of [1280, 400]) {
    it(`fits ${width} px: no sideways scrolling, Add account visible`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.mouse.move(0, 0);
      const { scroll, width: inner } = await noSidewaysScroll();
      expect(scroll).toBeLessThanOrEqual(inner);
      const add = page.getByRole('button', { name: 'Add account…' }).first();
      expect(await add.isVisible()).toBe(true);
      const box = (await add.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
      if (width === 400) {
        // One column: the two profile cards sit one above the other.
        const cards = await page
          .getByRole('article')
          .evaluateAll((all) => all.map((card) => card.getBoundingClientRect().left));
        expect(new Set(cards.map(Math.round)).size).toBe(1);
        const folder = screenshotFolder();
        await page.emulateMedia({ colorScheme: 'light' });
        await page.screenshot({
          path: join(folder, 'settings-narrow.png'),
          fullPage: true,
          animations: 'disabled',
        });
        expect(readFileSync(join(folder, 'settings-narrow.png')).length).toBeGreaterThan(1000);
      }
    });
  }
});
