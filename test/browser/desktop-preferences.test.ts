/**
 * The settings page's "This computer" section in real Chromium: the page served by the real
 * `codex-lab serve`, with a recording stand-in for the Electron preload's `window.codexLabDesktop`
 * (the Electron binary cannot run here; main's side of these channels is unit-tested). Changing a
 * preference sends exactly that change, a change pushed from the tray is shown, the preferred
 * sign-in method is where Add account starts, the tray's Add account… opens the page's dialog, and
 * "Open logs folder" asks main to open it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

/** Installed before the page's scripts: records every call, answers like main does. */
function recordingDesktopApi(): void {
  type Preferences = {
    launchAtLogin: boolean;
    signIn: 'browser' | 'popup' | 'device';
    notifications: boolean;
  };
  let preferences: Preferences = { launchAtLogin: false, signIn: 'browser', notifications: true };
  const listeners = new Set<(value: Preferences) => void>();
  const addAccountListeners = new Set<() => void>();
  const recorder = {
    calls: [] as unknown[],
    /** Stands for main relaying the tray's Add account…. */
    addAccount() {
      for (const listener of addAccountListeners) listener();
    },
    /** Stands for main pushing a change made elsewhere (the tray). */
    push(value: Preferences) {
      preferences = value;
      for (const listener of listeners) listener(value);
    },
  };
  Object.assign(window, {
    desktopCalls: recorder,
    codexLabDesktop: {
      getPreferences: async () => preferences,
      setPreferences: async (patch: Partial<Preferences>) => {
        recorder.calls.push(['setPreferences', patch]);
        preferences = { ...preferences, ...patch };
        // As main does: every window hears of the change, the one that made it too.
        for (const listener of listeners) listener(preferences);
        return { ok: true, value: preferences };
      },
      openLogsFolder: async () => {
        recorder.calls.push(['openLogsFolder']);
        return {
          ok: false,
          code: 'io_error',
          message: 'The logs folder /x could not be opened: no file manager',
        };
      },
      onPreferencesChanged: (listener: (value: Preferences) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      onFocusProfile: () => () => undefined,
      onAddAccount: (listener: () => void) => {
        addAccountListeners.add(listener);
        return () => addAccountListeners.delete(listener);
      },
    },
  });
}

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let page: Page;

const calls = () =>
  page.evaluate(
    () => (window as unknown as { desktopCalls: { calls: unknown[] } }).desktopCalls.calls,
  );

describe.skipIf(!hasChromium)('settings page: This computer (desktop preferences)', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({ accounts: [] });
    serve = await startServe({
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.addInitScript(recordingDesktopApi);
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('shows the preferences, system browser first, and sends each change as it is made', async () => {
    const section = page.getByRole('region', { name: 'This computer' });
    await section.waitFor();
    const launch = section.getByRole('checkbox', { name: /Start Codex Lab when I sign in/ });
    const browserRadio = section.getByRole('radio', { name: /In my browser/ });
    await expect.poll(() => browserRadio.isChecked()).toBe(true);
    expect(await launch.isChecked()).toBe(false);
    await launch.check();
    await section.getByRole('checkbox', { name: /Notify me/ }).uncheck();
    expect(await calls()).toEqual([
      ['setPreferences', { launchAtLogin: true }],
      ['setPreferences', { notifications: false }],
    ]);
    expect(await launch.isChecked()).toBe(true);
  });

  it('follows a change made in the tray, and Add account starts from that method', async () => {
    await page.evaluate(() =>
      (window as unknown as { desktopCalls: { push(value: unknown): void } }).desktopCalls.push({
        launchAtLogin: true,
        signIn: 'popup',
        notifications: false,
      }),
    );
    const section = page.getByRole('region', { name: 'This computer' });
    await expect
      .poll(() => section.getByRole('radio', { name: /In a small sign-in window/ }).isChecked())
      .toBe(true);
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
    expect(await dialog.getByRole('radio', { name: 'In a small sign-in window' }).isChecked()).toBe(
      true,
    );
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('the method chosen in Add account is the one preference the tray and this section show', async () => {
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
    await dialog.getByRole('radio', { name: /With a one-time code/ }).check();
    expect((await calls()).at(-1)).toEqual(['setPreferences', { signIn: 'device' }]);
    await dialog.getByRole('button', { name: 'Close' }).click();
    const section = page.getByRole('region', { name: 'This computer' });
    await expect
      .poll(() => section.getByRole('radio', { name: /With a one-time code/ }).isChecked())
      .toBe(true);
    // Opened again (from the page or the tray), it starts from that method.
    await page.getByRole('button', { name: 'Add account…' }).first().click();
    expect(await dialog.getByRole('radio', { name: /With a one-time code/ }).isChecked()).toBe(
      true,
    );
    // (Served by the web bridge here, the dialog says "In a new tab" for the browser.)
    await dialog.getByRole('radio', { name: /In a new tab|In my browser/ }).check();
    expect((await calls()).at(-1)).toEqual(['setPreferences', { signIn: 'browser' }]);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it("the tray's Add account… opens the page's dialog, which runs the sign-in", async () => {
    const dialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
    expect(await dialog.isVisible()).toBe(false);
    await page.evaluate(() =>
      (window as unknown as { desktopCalls: { addAccount(): void } }).desktopCalls.addAccount(),
    );
    await dialog.waitFor();
    // Asked again while it is open, it is left as it is.
    await dialog.getByRole('textbox', { name: 'Profile name' }).fill('work');
    await page.evaluate(() =>
      (window as unknown as { desktopCalls: { addAccount(): void } }).desktopCalls.addAccount(),
    );
    expect(await dialog.getByRole('textbox', { name: 'Profile name' }).inputValue()).toBe('work');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('Open logs folder asks main, and says so when the folder cannot be opened', async () => {
    const section = page.getByRole('region', { name: 'This computer' });
    await section.getByRole('button', { name: 'Open logs folder' }).click();
    await section.getByRole('alert').waitFor();
    expect(await section.getByRole('alert').textContent()).toContain('could not be opened');
    expect((await calls()).at(-1)).toEqual(['openLogsFolder']);
  });

  it('a window opened while the router is not answering keeps main’s sentence, not the late first answer', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      // As main does: the offline push on load, and the first state asked of a frozen router
      // failing later (Electron wraps the error of an invoke).
      Object.assign(window, {
        codexLab: {
          getState: () =>
            new Promise((_resolve, reject) =>
              setTimeout(
                () =>
                  reject(
                    new Error(
                      "Error invoking remote method 'codex-lab:get-state': Error: no answer in time",
                    ),
                  ),
                400,
              ),
            ),
          subscribe: (_listener: unknown, onOffline?: (message: string) => void) => {
            setTimeout(() => onOffline?.('The Codex Lab router at … is not answering.'), 50);
            return () => undefined;
          },
        },
      });
    });
    const offline = await context.newPage();
    await offline.goto(`${serve.url}/ui/`);
    await offline.getByText('Not connected').waitFor();
    await offline.waitForTimeout(800);
    const text = await offline.locator('body').textContent();
    expect(text).toContain('The Codex Lab router at … is not answering.');
    expect(text).not.toContain('Error invoking remote method');
    await context.close();
  });

  it('is absent from the plain web dashboard', async () => {
    const plain = await browser.newPage();
    await plain.goto(`${serve.url}/ui/#token=${serve.token}`);
    await plain.getByText(/Router on/).waitFor();
    expect(await plain.getByRole('region', { name: 'This computer' }).count()).toBe(0);
    await plain.close();
  });
});
