/**
 * The dashboard never shows a figure it cannot stand behind, in real Chromium (the page's own
 * `serve`, showing given states through `showLabState`): an account that needs a sign-in, or whose
 * keychain or auth file cannot be read, shows grey bars said as last known, reason first, on its
 * card and its row (never green, as if usable); every bar's reset is on the card as a clock time
 * with its countdown, and a screen reader hears it with the bar; a long name and email are whole
 * without a mouse, the status badge stays top right at 320–400 px card widths; a history of one
 * reading says when it starts instead of drawing a lone line. Screenshots go to a temporary
 * folder (`screenshotFolder`), to be looked at.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { LabState, ProfileView } from '../../core/service/contract.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { uiProfile, uiState } from '../helpers/ui-lab-state.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  screenshotFolder,
  showAccountsAs,
  showLabState,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;

const minute = 60_000;
const hour = 60 * minute;
const longName = 'client-acme-very-long-project-name-for-the-q3-migration-team-x';
const longEmail = 'firstname.middlename.lastname.department@subsidiary.example-company.com';

/** The accounts in every state that matters here, their moments around the real clock. */
function states(): LabState {
  const now = Date.now();
  const iso = (offset: number) => new Date(now + offset).toISOString();
  const quota = (used: number, readAgo: number): ProfileView['quota'] => ({
    primary: {
      usedPercent: used,
      windowMinutes: 300,
      resetsAt: iso(2 * hour + 59 * minute + 30_000),
    },
    secondary: { usedPercent: used, windowMinutes: 10080, resetsAt: iso(3 * 24 * hour) },
    updatedAt: iso(-readAgo),
  });
  // Read two hours ago (and half a minute, so the page says "2h ago" for a while), then stopped.
  const stale = 2 * hour + 30_000;
  const history = (readAgo: number) => [{ at: iso(-readAgo), primary: 37, secondary: 37 }];
  return uiState(
    [
      uiProfile('live', { quota: quota(37, 0), history: history(0) }),
      uiProfile('expired', {
        status: 'auth_error',
        statusMessage: 'The sign-in has expired.',
        quota: quota(10, stale),
      }),
      uiProfile('locked', {
        status: 'auth_error',
        statusCode: 'keyring_unavailable',
        statusMessage: 'The OS keychain is not available (locked).',
        quota: quota(10, stale),
      }),
      uiProfile('broken', {
        status: 'auth_error',
        statusCode: 'corrupt_file',
        statusMessage: 'auth.json is not valid JSON.',
        quota: quota(10, stale),
      }),
      uiProfile(longName, { email: longEmail, quota: quota(55, 0) }),
    ],
    {},
    now,
  );
}

/** A fresh page `width` px wide showing the accounts as `view`. */
async function pageShowing(width: number, view: 'list' | 'cards'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await showLabState(context, states());
  await showAccountsAs(context, view);
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  return page;
}

const card = (page: Page, name: string) =>
  page.getByRole('article', { name: `Profile ${name}`, exact: true });
const row = (page: Page, name: string) => page.locator(`li[data-profile-row="${name}"]`);

/** The painted colour of each bar fill inside `holder`. */
function fills(page: Page, selector: string): Promise<string[]> {
  return page
    .locator(selector)
    .locator('.bar-fill')
    .evaluateAll((nodes) => nodes.map((node) => getComputedStyle(node).backgroundColor));
}

describe.skipIf(!hasChromium)('the dashboard shows only figures it can stand behind', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({ accounts: [] });
    serve = await startServe({
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('shows an account it cannot read with grey bars said as last known, reason first', async () => {
    const shots = screenshotFolder();
    const page = await pageShowing(1280, 'cards');
    const green = (await fills(page, 'article[data-profile="live"]'))[0];
    for (const [name, reason] of [
      ['expired', 'Needs sign-in'],
      ['locked', 'Keychain unavailable'],
      ['broken', 'Auth file unreadable'],
    ] as const) {
      const holder = card(page, name);
      const line = holder.getByTestId('last-known');
      expect(await line.textContent()).toBe(`${reason} — last known, as of 2h ago`);
      // The reason and age come before the bars they are about.
      const lineTop = (await line.boundingBox())!.y;
      const barTop = (await holder.getByRole('progressbar').first().boundingBox())!.y;
      expect(lineTop).toBeLessThan(barTop);
      const colours = await fills(page, `article[data-profile="${name}"]`);
      expect(colours).toHaveLength(2);
      for (const colour of colours) expect(colour).not.toBe(green);
      const snapshot = await holder.ariaSnapshot();
      expect(snapshot).toContain(`progressbar "${name} 5-hour window"`);
      expect(
        await holder
          .getByRole('progressbar', { name: `${name} 5-hour window` })
          .getAttribute('aria-valuetext'),
      ).toMatch(
        new RegExp(
          `^${reason.toLowerCase()} — last known, as of 2h ago: 90% left, resets \\d\\d:\\d\\d \\(in 2h 59m\\)$`,
        ),
      );
    }
    await page.screenshot({ path: join(shots, 'last-known-cards-1280.png'), fullPage: true });
    const list = await pageShowing(1280, 'list');
    const rowColours = await fills(list, 'li[data-profile-row="expired"]');
    expect(rowColours).toHaveLength(2);
    for (const colour of rowColours) expect(colour).not.toBe(green);
    expect(await row(list, 'expired').getAttribute('class')).toMatch(/status-auth_error/);
    // The age of its figures is on the row, under its name, in sight.
    expect(await row(list, 'expired').getByText('as of 2h ago').isVisible()).toBe(true);
    expect(
      await list
        .getByRole('progressbar', { name: 'expired Weekly window' })
        .getAttribute('aria-valuetext'),
    ).toMatch(
      /^needs sign-in — last known, as of 2h ago: 90% left, resets [A-Z][a-z]{2} \d\d:\d\d \(in 2d 23h\)$/,
    );
    await list.screenshot({ path: join(shots, 'last-known-list-1280.png') });
    await page.context().close();
    await list.context().close();
  });

  it('puts each reset’s clock time in the card’s words, and in what a screen reader hears', async () => {
    const shots = screenshotFolder();
    const page = await pageShowing(360, 'cards');
    const live = card(page, 'live');
    const resets = await live
      .getByTestId('quota-reset')
      .evaluateAll((spans) => spans.map((span) => span.textContent?.trim()));
    expect(resets[0]).toMatch(/^resets \d\d:\d\d \(in 2h 59m\)$/);
    expect(resets[1]).toMatch(/^resets [A-Z][a-z]{2} \d\d:\d\d \(in 2d 23h\)$/);
    // Shown, not hidden in a title: inside the card, not cut.
    for (const span of await live.getByTestId('quota-reset').all()) {
      expect(await span.isVisible()).toBe(true);
      expect(await span.getAttribute('title')).toBeNull();
    }
    const bar = live.getByRole('progressbar', { name: 'live 5-hour window' });
    expect(await bar.getAttribute('aria-valuetext')).toMatch(
      /^63% left, resets \d\d:\d\d \(in 2h 59m\)$/,
    );
    await live.screenshot({ path: join(shots, 'last-known-live-360.png') });
    await page.context().close();
  });

  it('keeps a long name and email whole without a mouse, the badge top right at 320–400 px cards', async () => {
    const shots = screenshotFolder();
    for (const width of [360, 424, 1280]) {
      const page = await pageShowing(width, 'cards');
      const holder = card(page, longName);
      const box = (await holder.boundingBox())!;
      if (width < 1280) expect(box.width).toBeLessThanOrEqual(400);
      const email = holder.getByText(longEmail, { exact: false });
      // Whole: nothing cut off sideways, no "…".
      expect(
        await email.evaluate((element) => element.scrollWidth <= element.clientWidth + 1),
      ).toBe(true);
      const badge = holder.getByLabel('Status: Ready');
      const badgeBox = (await badge.boundingBox())!;
      const nameBox = (await holder.getByRole('heading').boundingBox())!;
      const emailBox = (await email.boundingBox())!;
      // Top right, beside the name's first line, not dropped under the email.
      expect(Math.abs(badgeBox.y - nameBox.y)).toBeLessThan(12);
      expect(badgeBox.y).toBeLessThan(emailBox.y);
      expect(badgeBox.x + badgeBox.width).toBeLessThanOrEqual(box.x + box.width);
      expect(badgeBox.x).toBeGreaterThan(nameBox.x + 40);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        width,
      );
      await holder.screenshot({ path: join(shots, `last-known-long-card-${width}.png`) });
      await page.context().close();
    }
    // In the list, the cut name shows whole while its button has keyboard focus, and its
    // accessible name is the whole name.
    const list = await pageShowing(360, 'list');
    const button = row(list, longName).locator('.row-name');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await row(list, longName).getByRole('button').first().textContent()).toContain(longName);
    const title = row(list, longName).locator('.row-title');
    expect(await title.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
    await row(list, 'broken').locator('.row-name').focus();
    await list.keyboard.press('Tab');
    // Tab from the row before lands on this row's name (rows hold one control each).
    await expect
      .poll(() => button.evaluate((element) => element === document.activeElement))
      .toBe(true);
    expect(await title.evaluate((element) => element.scrollWidth <= element.clientWidth + 1)).toBe(
      true,
    );
    await row(list, longName).screenshot({
      path: join(shots, 'last-known-long-row-focus-360.png'),
    });
    await list.context().close();
  });

  it('says a history of one reading starts with the next, with no chart', async () => {
    const page = await pageShowing(1280, 'cards');
    const live = card(page, 'live');
    await live.getByText('History starts with the next reading.').waitFor();
    expect(await live.locator('svg').count()).toBe(0);
    await page.context().close();
  });
});
