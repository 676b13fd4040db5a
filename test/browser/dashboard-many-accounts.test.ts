/**
 * Many accounts at a glance, in real Chromium at 1280×800 against the real `codex-lab serve` and
 * the fake ChatGPT: with 15 signed-in accounts (and 30 in a given state), every account's row and
 * both of its quota bars are inside the window without scrolling, each row says the state its
 * account is in (limited, needs sign-in, in use, pinned, active); with 20 accounts every row's
 * columns line up and every name has the same room whatever the row's state, and a used-up window
 * reads "used up" as on the card; the rows work from the keyboard
 * (a row opens its account's full card and takes focus back when it closes); the choice between
 * list and cards is remembered across a reload; a 380 px window scrolls no row sideways; and with
 * three accounts the page still shows the detailed cards, one row of three, as before. No token
 * reaches the page. Screenshots of the 15-account list (light) and the 30-account one (dark):
 * into docs/screenshots/ with CODEX_LAB_UPDATE_SCREENSHOTS=1, else into a temporary folder
 * removed after the test.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ProfileView } from '../../core/service/contract.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import { uiProfile, uiState } from '../helpers/ui-lab-state.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  screenshotFolder,
  showLabState,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

/** Fifteen accounts, named as people name them (a long one among them). */
const names = [
  'personal',
  'work',
  'team-alpha',
  'team-beta',
  'client-acme-long-project-name',
  'research',
  'night',
  'backup-1',
  'backup-2',
  'sandbox',
  'eu-team',
  'us-team',
  'spare',
  'intern',
  'oncall',
];
const emailOf = (name: string) => `${name.slice(0, 20)}@example.com`;

let fake: FakeChatGpt;
let serve: ServeProcess;
let seeded: SeededProfile[];
let browser: Browser;

/** A fresh 1280×800 page of the dashboard, optionally showing a given state (`showLabState`). */
async function openPage(
  setUp?: (context: BrowserContext) => Promise<void>,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  await setUp?.(context);
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  return page;
}

/** True when the element is wholly inside the window (to the pixel: layout has fractions). */
function isInView(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    return (
      box.height > 0 &&
      box.top >= -1 &&
      box.bottom <= window.innerHeight + 1 &&
      box.left >= 0 &&
      box.right <= window.innerWidth + 1
    );
  });
}

const bar = (page: Page, name: string, window: '5-hour' | 'Weekly') =>
  page.getByRole('progressbar', { name: `${name} ${window} window`, exact: true });
const row = (page: Page, name: string) => page.locator(`li[data-profile-row="${name}"]`);

/** The names whose row or either bar is not wholly inside the window, as the page is now. */
async function outOfView(page: Page, profiles: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of profiles) {
    const parts = [bar(page, name, '5-hour'), bar(page, name, 'Weekly'), row(page, name)];
    for (const part of parts) {
      if ((await part.count()) !== 1 || !(await isInView(part))) {
        missing.push(name);
        break;
      }
    }
  }
  return missing;
}

describe.skipIf(!hasChromium)('many accounts at a glance', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: names.map((name) => ({ email: emailOf(name), usagePerTurn: 0 })),
    });
    // Spread the figures, so the bars differ as they would.
    names.forEach((name, index) => {
      const account = fake.account(emailOf(name));
      account.primary!.usedPercent = (index * 37) % 100;
      account.secondary!.usedPercent = (index * 23 + 10) % 100;
    });
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        seeded = await seedProfiles(
          fake,
          home,
          names.map((name) => ({ name, email: emailOf(name) })),
        );
      },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('shows 15 signed-in accounts, each row and both bars, inside 1280×800 without scrolling', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    // Every account read: the last one's 5-hour figure is the fake's.
    await expect
      .poll(() => bar(page, 'oncall', '5-hour').getAttribute('aria-valuenow'), {
        timeout: 20_000,
      })
      .toBe(String(100 - ((14 * 37) % 100)));
    expect(await outOfView(page, names)).toEqual([]);
    expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
    // A row says its figures (what is left), not only draws them.
    expect(await row(page, 'work').textContent()).toMatch(/5h\s*63%.*wk\s*67%/);
    await page.screenshot({ path: join(screenshotFolder(), 'accounts-list-light.png') });
    // Nothing the page holds is a token.
    const html = await page.content();
    for (const profile of seeded) {
      for (const token of [profile.accessToken, profile.refreshToken, profile.idToken]) {
        expect(html.includes(token)).toBe(false);
      }
    }
    await page.context().close();
  });

  it('shows 30 accounts and the state each is in (limited, needs sign-in, in use, pinned, active)', async () => {
    const now = Date.now();
    const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
    const many = Array.from(
      { length: 30 },
      (_, index) => `account-${String(index + 1).padStart(2, '0')}`,
    );
    const profiles: ProfileView[] = many.map((name, index) =>
      uiProfile(name, {
        quota: {
          primary: { usedPercent: (index * 31) % 100, windowMinutes: 300, resetsAt: at(90) },
          secondary: { usedPercent: (index * 17) % 100, windowMinutes: 10080, resetsAt: at(4000) },
          updatedAt: new Date(now).toISOString(),
        },
      }),
    );
    profiles[2] = {
      ...profiles[2]!,
      status: 'limited',
      unavailableUntil: at(75),
      statusMessage: 'The 5-hour limit is reached.',
      quota: {
        ...profiles[2]!.quota,
        primary: { ...profiles[2]!.quota.primary!, usedPercent: 100 },
      },
    };
    profiles[5] = {
      ...profiles[5]!,
      status: 'auth_error',
      statusCode: 'not_signed_in',
      statusMessage: 'The sign-in has expired.',
    };
    const state = uiState(
      profiles,
      {
        active: 'account-07',
        sessions: [
          {
            id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
            profile: 'account-09',
            route: 'best',
            why: { rule: 'best' as const, pin: null, left: [] },
            repo: null,
            model: 'gpt-6.2-sol',
            pinned: null,
            requests: 3,
            startedAt: at(-10),
            lastSeenAt: at(-1),
          },
        ],
        pins: [
          {
            kind: 'repo',
            key: '/src/app',
            profile: 'account-11',
            allowFallback: false,
            createdAt: at(-60),
          },
        ],
      },
      now,
    );
    const page = await openPage((context) => showLabState(context, state), 'dark');
    await row(page, 'account-30').waitFor();
    expect(await outOfView(page, many)).toEqual([]);
    expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
    // The state each is in, in words on its row (not only a colour).
    expect(await row(page, 'account-03').textContent()).toMatch(/Limited/);
    expect(await row(page, 'account-06').textContent()).toMatch(/Needs sign-in/);
    expect(await row(page, 'account-07').textContent()).toMatch(/Active/);
    expect(await row(page, 'account-09').textContent()).toMatch(/In use/);
    expect(await row(page, 'account-11').textContent()).toMatch(/Pinned/);
    expect(await row(page, 'account-01').textContent()).not.toMatch(
      /Limited|Needs sign-in|Active|In use|Pinned/,
    );
    await page.screenshot({ path: join(screenshotFolder(), 'accounts-list-30-dark.png') });
    await page.context().close();
  });

  it('lines up every row’s columns at 20 accounts whatever its state, and says a used-up window is used up', async () => {
    const now = Date.now();
    const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
    const twenty = [...names, 'alpha', 'beta', 'gamma', 'delta', 'omega'];
    const profiles: ProfileView[] = twenty.map((name, index) =>
      uiProfile(name, {
        quota: {
          primary: { usedPercent: (index * 37) % 100, windowMinutes: 300, resetsAt: at(90) },
          secondary: {
            usedPercent: (index * 23 + 10) % 100,
            windowMinutes: 10080,
            resetsAt: at(4000),
          },
          updatedAt: new Date(now).toISOString(),
        },
      }),
    );
    const patch = (name: string, change: Partial<ProfileView>) => {
      const index = twenty.indexOf(name);
      profiles[index] = { ...profiles[index]!, ...change };
    };
    patch('research', { status: 'auth_error', statusCode: 'corrupt_file' });
    patch('client-acme-long-project-name', { status: 'auth_error', statusCode: 'not_signed_in' });
    patch('eu-team', { status: 'auth_error', statusCode: 'keyring_unavailable' });
    // Its 5-hour window is used up while the account still reads ready.
    patch('backup-1', {
      quota: {
        primary: { usedPercent: 100, windowMinutes: 300, resetsAt: at(59) },
        secondary: { usedPercent: 29, windowMinutes: 10080, resetsAt: at(4000) },
        updatedAt: new Date(now).toISOString(),
      },
    });
    const state = uiState(
      profiles,
      {
        active: 'team-alpha',
        sessions: [
          {
            id: 'sess-live-1',
            profile: 'team-alpha',
            route: 'best',
            why: { rule: 'best' as const, pin: null, left: [] },
            repo: null,
            model: null,
            pinned: null,
            requests: 1,
            startedAt: at(-5),
            lastSeenAt: at(-1),
          },
        ],
        pins: [
          {
            kind: 'repo',
            key: '/src/app',
            profile: 'team-alpha',
            allowFallback: false,
            createdAt: at(-60),
          },
        ],
      },
      now,
    );
    const page = await openPage((context) => showLabState(context, state));
    await row(page, 'omega').waitFor();
    expect(await outOfView(page, twenty)).toEqual([]);
    const boxes = await page.locator('li[data-profile-row]').evaluateAll((rows) =>
      rows.map((each) => {
        const box = (element: Element) => element.getBoundingClientRect();
        const windows = each.querySelectorAll('.row-window');
        return {
          name: each.getAttribute('data-profile-row')!,
          left: box(each).left,
          right: box(each).right,
          nameWidth: box(each.querySelector('.row-name')!).width,
          tagged: each.querySelector('.row-tags') !== null,
          tagsContentRight: Math.max(
            box(each.querySelector('.row-tags') ?? each.querySelector('.row-name')!).right,
            ...[...each.querySelectorAll('.tag')].map((tag) => box(tag).right),
          ),
          fiveHour: box(windows[0]!).left,
          week: box(windows[1]!).left,
          end: box(windows[1]!).right,
        };
      }),
    );
    // Two columns of rows; in each, every row's name, 5h and wk start where the others' do.
    const columns = [...new Set(boxes.map((box) => Math.round(box.left)))];
    expect(columns).toHaveLength(2);
    for (const column of columns) {
      const rows = boxes.filter((box) => Math.round(box.left) === column);
      for (const key of ['fiveHour', 'week', 'end'] as const) {
        const spread = rows.map((box) => box[key]);
        expect(
          Math.max(...spread) - Math.min(...spread),
          `${key} in column at ${column}`,
        ).toBeLessThan(1);
      }
    }
    for (const box of boxes) {
      // Nothing sticks out of its row, and a row's tags stay out of its 5-hour window.
      expect(box.end, box.name).toBeLessThanOrEqual(box.right + 0.5);
      expect(box.tagsContentRight, box.name).toBeLessThanOrEqual(box.fiveHour + 0.5);
    }
    // A name has as much room on a row with a long state as on any other with a state; a row
    // with none gives its name the state's column too.
    const widths = boxes.filter((box) => box.tagged).map((box) => box.nameWidth);
    expect(Math.max(...widths) - Math.min(...widths)).toBeLessThan(1);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(80);
    const untagged = boxes.filter((box) => !box.tagged).map((box) => box.nameWidth);
    expect(untagged.length).toBeGreaterThan(0);
    for (const width of untagged) expect(width).toBeGreaterThan(Math.max(...widths) + 90);
    expect(await row(page, 'research').textContent()).toMatch(/Auth file unreadable/);
    expect(await row(page, 'client-acme-long-project-name').textContent()).toMatch(/Needs sign-in/);
    // A used-up window is "used up" here, as on the card and in `codex-lab usage`, not "0%".
    const usedUp = row(page, 'backup-1');
    expect(await usedUp.textContent()).toMatch(/5h\s*used up/);
    expect(await usedUp.textContent()).not.toMatch(/\b0%/);
    expect(await bar(page, 'backup-1', '5-hour').getAttribute('aria-valuetext')).toMatch(
      /^used up, resets \d\d:\d\d \(in \d+m\)$/,
    );
    await page.context().close();
  });

  it('opens an account’s card from its row by keyboard, and closes it back to the row', async () => {
    const page = await openPage();
    const open = row(page, 'work').getByRole('button', { name: /^work\b/ });
    await open.focus();
    expect(await open.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    const card = page.getByRole('article', { name: 'Profile work', exact: true });
    await card.waitFor();
    expect(await open.getAttribute('aria-expanded')).toBe('true');
    // Focus went into the card, where its own controls are (rename, sign in again, remove…).
    expect(await card.evaluate((element) => element.contains(document.activeElement))).toBe(true);
    await card.getByRole('button', { name: 'Rename work' }).waitFor();
    await card.getByRole('button', { name: 'Close work' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await open.evaluate((element) => element === document.activeElement)).toBe(true);
    await page.context().close();
  });

  it('remembers a choice of cards across a reload, and Auto goes back to the list', async () => {
    const page = await openPage();
    const view = page.getByRole('radiogroup', { name: 'Accounts view' });
    await view.getByRole('radio', { name: 'Cards' }).click();
    await page.getByRole('article', { name: 'Profile oncall', exact: true }).waitFor();
    expect(await page.locator('li[data-profile-row]').count()).toBe(0);
    await page.reload();
    await page.getByRole('article', { name: 'Profile oncall', exact: true }).waitFor();
    expect(await view.getByRole('radio', { name: 'Cards' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    // Arrow keys move the choice, as in the theme switch.
    await view.getByRole('radio', { name: 'Cards' }).focus();
    await page.keyboard.press('Home');
    expect(await view.getByRole('radio', { name: 'Auto' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    await row(page, 'oncall').waitFor();
    expect(await page.getByRole('article').count()).toBe(0);
    await page.context().close();
  });

  it('fits a 380 px window: a row takes two lines, nothing scrolls sideways', async () => {
    const page = await openPage();
    await page.setViewportSize({ width: 380, height: 800 });
    const long = row(page, 'client-acme-long-project-name');
    await long.waitFor();
    expect(
      await page.evaluate(
        () => document.scrollingElement!.scrollWidth <= document.scrollingElement!.clientWidth,
      ),
    ).toBe(true);
    for (const part of [
      long.getByRole('button', { name: /^client-acme/ }),
      bar(page, 'client-acme-long-project-name', '5-hour'),
      bar(page, 'client-acme-long-project-name', 'Weekly'),
    ]) {
      await part.scrollIntoViewIfNeeded();
      expect(await isInView(part)).toBe(true);
    }
    await page.context().close();
  });

  it('keeps the detailed cards, one row of three, for three accounts', async () => {
    const three = ['work', 'team', 'home'].map((name) => uiProfile(name));
    const page = await openPage((context) => showLabState(context, uiState(three)));
    const cards = page.getByRole('article');
    await cards.first().waitFor();
    expect(await cards.count()).toBe(3);
    expect(await page.locator('li[data-profile-row]').count()).toBe(0);
    const boxes = await cards.evaluateAll((elements) =>
      elements.map((element) => element.getBoundingClientRect().toJSON() as DOMRect),
    );
    // One row of three equal columns across the page's 1072 px (1120 less its padding).
    expect(new Set(boxes.map((box) => Math.round(box.top))).size).toBe(1);
    for (const box of boxes) expect(Math.round(box.width)).toBe(Math.round((1072 - 32) / 3));
    for (const name of ['work', 'team', 'home']) {
      const card = page.getByRole('article', { name: `Profile ${name}`, exact: true });
      // The card as it was: both bars, the forecast, the chart, priming and the actions.
      expect(await card.getByRole('progressbar').count()).toBe(2);
      expect(await card.getByTestId('forecast').count()).toBe(1);
      expect(await card.getByRole('switch', { name: `Priming for ${name}` }).count()).toBe(1);
      expect(await card.getByRole('button', { name: `Remove ${name}` }).count()).toBe(1);
      expect(await card.getByRole('button', { name: `Close ${name}` }).count()).toBe(0);
    }
    await page.context().close();
  });
});
