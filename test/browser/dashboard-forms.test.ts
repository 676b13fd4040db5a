/**
 * The dashboard's inline forms and layout in real Chromium against the real `codex-lab serve` and
 * the fake ChatGPT: the rename form fits beside the badges (Save and Cancel clickable at 380 px
 * and wide, a long name not clipped), a failed rename or pin says why under its field with focus
 * kept there (and Escape still cancels), a 64-character profile name does not make the page
 * scroll sideways, focus moves on when a card is removed, the status colours (on the cards and
 * on the accounts list's rows) reach WCAG AA contrast in both themes, and a double-clicked Continue to sign-in starts one sign-in.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { contrastOf } from '../helpers/ui-contrast.ts';
import { uiProfile, uiState } from '../helpers/ui-lab-state.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  showAccountsAs,
  showLabState,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

/** A valid profile name of the longest length the tester tried: 64 characters. */
const longName = 'a-very-long-profile-name-for-overflow-testing-0123456789abcdefgh';
/** 64 characters with nowhere to break a line. */
const solidName = `solid${'x'.repeat(59)}`;
const names = [solidName, 'work', 'nearly', 'team', 'fresh', 'half', longName];

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function openDashboard(width: number): Promise<void> {
  await page.setViewportSize({ width, height: 800 });
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
}

/** How many sign-ins serve lists (under way, or finished a short while ago). */
async function listedLogins(): Promise<number> {
  const answer = await fetch(`${serve.url}/lab/v1/state`, {
    headers: { authorization: `Bearer ${serve.token}` },
  });
  const body = (await answer.json()) as { logins?: unknown[]; value?: { logins?: unknown[] } };
  return (body.value ?? body).logins?.length ?? Number.NaN;
}

const card = (name: string) => page.getByRole('article', { name: `Profile ${name}`, exact: true });

/** True when a click at the element's centre lands on it (nothing painted over it). */
function isOnTop(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && (hit === element || element.contains(hit));
  });
}

/** True when the element is wholly inside the window (to the pixel: layout has fractions). */
function isInView(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    return box.top >= -1 && box.bottom <= window.innerHeight + 1 && box.left >= 0;
  });
}

/** The text a field's `aria-describedby` points at ('' when it names nothing). */
function descriptionOf(field: Locator): Promise<string> {
  return field.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
      .join(' ')
      .trim(),
  );
}

/** What has keyboard focus: its aria-label (a card's is "Profile <name>"), its id, or its text. */
function focused(): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'BODY';
    return (
      element.getAttribute('aria-label') ||
      element.id ||
      element.textContent?.trim() ||
      element.tagName
    );
  });
}

describe.skipIf(!hasChromium)('dashboard inline forms and layout', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: names.map((name) => ({ email: `${name.slice(0, 20)}@example.com` })),
    });
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        await seedProfiles(
          fake,
          home,
          names.map((name) => ({ name, email: `${name.slice(0, 20)}@example.com` })),
        );
      },
    );
    browser = await launchChromium();
    context = await browser.newContext({ colorScheme: 'light' });
    // The forms are the cards' (seven accounts would be a list by default).
    await showAccountsAs(context, 'cards');
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  for (const width of [380, 1100]) {
    it(`renames with Save and Cancel both clickable at ${width} px, and a long name gets the whole row`, async () => {
      await openDashboard(width);
      for (const name of ['work', longName]) {
        await card(name)
          .getByRole('button', { name: `Rename ${name}`, exact: true })
          .click();
        const field = page.getByRole('textbox', { name: `New name for ${name}`, exact: true });
        const save = card(name).getByRole('button', { name: 'Save' });
        const cancel = card(name).getByRole('button', { name: 'Cancel' });
        await cancel.scrollIntoViewIfNeeded();
        expect(await isOnTop(save)).toBe(true);
        expect(await isOnTop(cancel)).toBe(true);
        // The field spans the card's row (it was 150 px beside the badges, the name cut short).
        const fieldBox = (await field.boundingBox())!;
        const cardBox = (await card(name).boundingBox())!;
        expect(fieldBox.x + fieldBox.width).toBeLessThanOrEqual(cardBox.x + cardBox.width);
        expect(fieldBox.width).toBeGreaterThan(cardBox.width * 0.5);
        await cancel.click({ timeout: 3000 });
        expect(await field.count()).toBe(0);
        // Focus goes back to ✎, not to the top of the page.
        expect(await focused()).toBe(`Rename ${name}`);
      }
    });
  }

  it('says why a rename failed under its field, keeps focus there, and Escape still cancels', async () => {
    await openDashboard(1280);
    const rename = card(longName).getByRole('button', { name: `Rename ${longName}` });
    await rename.scrollIntoViewIfNeeded();
    await rename.click();
    const field = page.getByRole('textbox', { name: `New name for ${longName}` });
    await field.fill('work');
    await field.press('Enter');
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(field)).toMatch(/work/);
    const error = card(longName).getByRole('alert');
    expect(await error.textContent()).toBe(await descriptionOf(field));
    expect(await isInView(error)).toBe(true);
    // All of it: not cut to one line with an ellipsis.
    expect(await error.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(
      true,
    );
    expect(await error.evaluate((element) => getComputedStyle(element).whiteSpace)).toBe('normal');
    // Not also in the page's notice, scrolled out of sight at the top.
    expect(await page.locator('.notice').count()).toBe(0);
    expect(await focused()).toBe(`New name for ${longName}`);
    // Typing a new name clears the error; Escape closes the form and returns to ✎.
    await field.press('End');
    await field.press('2');
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    await field.press('Escape');
    expect(await field.count()).toBe(0);
    expect(await focused()).toBe(`Rename ${longName}`);
  });

  it('says why a repository pin was refused under the path field, with focus kept there', async () => {
    await openDashboard(380);
    const field = page.getByRole('textbox', { name: 'Repository path' });
    await field.scrollIntoViewIfNeeded();
    await field.fill('relative/path');
    await field.press('Enter');
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(field)).toContain('"relative/path" is not an absolute path');
    const error = page.getByRole('region', { name: 'Pins' }).getByRole('alert');
    expect(await isInView(error)).toBe(true);
    expect(await page.locator('.notice').count()).toBe(0);
    expect(await focused()).toBe('Repository path');
    expect(await page.locator('tr[data-pin="relative/path"]').count()).toBe(0);
    await field.fill('');
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    expect(await error.count()).toBe(0);
  });

  it('says, when a repository pin moves from another profile, from which', async () => {
    const repo = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-pin-moved-')));
    mkdirSync(join(repo, '.git'));
    try {
      await openDashboard(1100);
      const field = page.getByRole('textbox', { name: 'Repository path' });
      const profile = page.getByRole('combobox', { name: 'Profile for the repository' });
      const result = page.getByRole('region', { name: 'Pins' }).getByTestId('pin-result');
      await profile.selectOption('work');
      await field.fill(repo);
      await field.press('Enter');
      await expect.poll(() => result.textContent()).toBe(`Pinned ${repo} to work.`);
      await profile.selectOption('team');
      await field.fill(repo);
      await field.press('Enter');
      await expect.poll(() => result.textContent()).toBe(`Pinned ${repo} to team (was work).`);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('does not scroll sideways at 380 px with a 64-character profile name', async () => {
    await openDashboard(380);
    const sizes = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
    }));
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.width);
    // A name with nowhere to break wraps inside its card, and its ✎ stays there to be clicked.
    const rename = card(solidName).getByRole('button', { name: `Rename ${solidName}` });
    await rename.scrollIntoViewIfNeeded();
    const renameBox = (await rename.boundingBox())!;
    const solidCard = (await card(solidName).boundingBox())!;
    expect(renameBox.x + renameBox.width).toBeLessThanOrEqual(solidCard.x + solidCard.width);
    expect(await isOnTop(rename)).toBe(true);
    for (const [region, select] of [
      ['Requests', 'Filter by profile'],
      ['Pins', 'Profile for the repository'],
    ] as const) {
      const section = page.getByRole('region', { name: region });
      const sectionBox = (await section.boundingBox())!;
      const selectBox = (await section.getByRole('combobox', { name: select }).boundingBox())!;
      expect(selectBox.x + selectBox.width).toBeLessThanOrEqual(sectionBox.x + sectionBox.width);
    }
  });

  // Last in this file: it removes every profile.
  it('moves focus to the next card when one is removed, else the previous, else Add account', async () => {
    await openDashboard(1280);
    const removeWithKeyboard = async (name: string) => {
      await card(name)
        .getByRole('button', { name: `Remove ${name}`, exact: true })
        .focus();
      await page.keyboard.press('Enter');
      // Focus is on Keep (the safe choice); Remove is just before it.
      expect(await focused()).toBe('Keep');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      await card(name).waitFor({ state: 'detached' });
    };
    const remaining = [...names];
    const expectFocusAfter = async (name: string, expected: string) => {
      await removeWithKeyboard(name);
      remaining.splice(remaining.indexOf(name), 1);
      await expect.poll(focused).toBe(expected);
    };
    await expectFocusAfter('nearly', 'Profile team');
    await expectFocusAfter(longName, 'Profile half');
    while (remaining.length > 1) await expectFocusAfter(remaining[0]!, `Profile ${remaining[1]}`);
    await expectFocusAfter(remaining[0]!, 'add-account');
    expect(await page.getByRole('button', { name: 'Add account…' }).first().isEnabled()).toBe(true);
  });

  it('starts one sign-in when Continue to sign-in is double-clicked, and opens one page', async () => {
    await openDashboard(1280);
    const popups: Page[] = [];
    const onPopup = (popup: Page) => popups.push(popup);
    page.on('popup', onPopup);
    // The start is held a moment, as a slow one is, so the second click lands while it is on its
    // way; the sign-in page is held too, so the sign-in stays waiting.
    const startLogin = '**/lab/v1/startLogin';
    await page.route(startLogin, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    const authorize = `${fake.issuerUrl}/oauth/authorize**`;
    await context.route(authorize, (route) => route.fulfill({ status: 200, body: 'held' }));
    try {
      await page.locator('#add-account').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('radio', { name: 'In a small sign-in window' }).check();
      const loginsBefore = await listedLogins();
      await dialog.getByRole('button', { name: 'Continue to sign-in' }).dblclick();
      await dialog.getByRole('status', { name: 'Sign-in progress' }).waitFor();
      // A second start would answer within this time and open its own page.
      await page.waitForTimeout(1500);
      expect(popups.length).toBe(1);
      // Finished sign-ins stay listed for a while: count the ones this click started.
      expect((await listedLogins()) - loginsBefore).toBe(1);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
    } finally {
      page.off('popup', onPopup);
      await page.unroute(startLogin);
      await context.unroute(authorize);
      for (const popup of popups) await popup.close().catch(() => undefined);
    }
  });
});

describe.skipIf(!hasChromium)('status colours', () => {
  let colourServe: ServeProcess;
  let colourFake: FakeChatGpt;
  let colourBrowser: Browser;

  beforeAll(async () => {
    buildRenderer();
    colourFake = await startFakeChatGpt({ accounts: [] });
    colourServe = await startServe({
      CODEX_LAB_AUTH_ISSUER: colourFake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: colourFake.backendUrl,
    });
    colourBrowser = await launchChromium();
  });

  afterAll(async () => {
    await colourBrowser?.close();
    await colourServe?.stop();
    await colourFake?.close();
  });

  const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const profiles = [
    uiProfile('ready'),
    uiProfile('limited', {
      status: 'limited',
      unavailableUntil: inAWeek,
      forecast: {
        outlook: 'exhausted',
        runsOutAt: null,
        resetsAt: inAWeek,
        percentPerHour: 1,
        usedPercent: 100,
      },
    }),
    uiProfile('signedout', { status: 'auth_error', statusMessage: 'Sign in again.' }),
    uiProfile('unchecked', { status: 'unknown' }),
  ];
  /** Small text in status colours, by what it says. */
  const samples = {
    'Ready badge': '[data-profile="ready"] .badge-ok',
    'Limited badge': '[data-profile="limited"] .badge-limited',
    'Needs sign-in badge': '[data-profile="signedout"] .badge-auth_error',
    'Not checked yet badge': '[data-profile="unchecked"] .badge-unknown',
    'weekly quota used up line': '[data-profile="limited"] .forecast-exhausted',
    'selected routing chip': '.routing .chip-on',
    'Active badge': '.badge-active',
    'New sessions badge': '.badge-next',
    'Limited tag': '[data-profile-row="limited"] .tag-limited',
    'Needs sign-in tag': '[data-profile-row="signedout"] .tag-auth_error',
    'Not checked yet tag': '[data-profile-row="unchecked"] .tag-unknown',
    'Active tag': '.tag-active',
    'New sessions tag': '.tag-next',
    'In use tag': '.tag-use',
    'Pinned tag': '.tag-pin',
    'reset time on a row': '[data-profile-row="ready"] .row-reset >> nth=0',
  };
  /** A live session and a pin on ready, so its row says In use and Pinned. */
  const inUse = {
    sessions: [
      {
        id: 's-1',
        profile: 'ready',
        route: 'best' as const,
        why: { rule: 'best' as const, pin: null, left: [] },
        repo: null,
        model: null,
        pinned: null,
        requests: 1,
        startedAt: inAWeek,
        lastSeenAt: inAWeek,
      },
    ],
    pins: [
      {
        kind: 'repo' as const,
        key: '/src/app',
        profile: 'ready',
        allowFallback: false,
        createdAt: inAWeek,
      },
    ],
  };

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`reaches WCAG AA (4.5:1) for small status text in the ${colorScheme} theme`, async () => {
      const found = new Set<string>();
      const failures: string[] = [];
      for (const [view, active] of [
        ['cards', 'auto'],
        ['cards', 'ready'],
        ['list', 'ready'],
        ['list', 'auto'],
      ] as const) {
        const context = await colourBrowser.newContext({ colorScheme });
        await showLabState(context, uiState(profiles, { active, ...inUse }));
        await showAccountsAs(context, view);
        const page = await context.newPage();
        await page.goto(`${colourServe.url}/ui/`);
        await (
          view === 'cards'
            ? page.getByRole('article', { name: 'Profile ready' })
            : page.locator('li[data-profile-row="ready"]')
        ).waitFor();
        for (const [what, selector] of Object.entries(samples)) {
          const element = page.locator(selector);
          if ((await element.count()) === 0) continue;
          found.add(what);
          const result = await contrastOf(element);
          if (result.ratio < result.required) {
            failures.push(
              `${what} "${result.text}": ${result.ratio}:1, ${result.color} on ${result.background}`,
            );
          }
        }
        await context.close();
      }
      expect([...found].sort()).toEqual(Object.keys(samples).sort());
      expect(failures).toEqual([]);
    });
  }
});
