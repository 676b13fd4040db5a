/**
 * Which account is in use, and keyboard focus through the accounts' actions, in real Chromium
 * against the real `codex-lab serve` and the fake ChatGPT: in Auto (the default) the account new
 * sessions go to is marked on its card and on its row, and the mark follows the quota as it
 * changes; Make active by keyboard leaves focus in the card (its button goes once the account is
 * active); Escape closes a card opened from the list, back to its row, and in a rename form
 * inside it cancels only the rename.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  showAccountsAs,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

const names = ['alpha', 'beta', 'gamma'];
const emailOf = (name: string) => `${name}@example.com`;

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;

/** A fresh 1280×800 page of the dashboard showing the accounts as `view`, quota read. */
async function openPage(view: 'list' | 'cards'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await showAccountsAs(context, view);
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  await page.getByRole('button', { name: 'Refresh quota' }).click();
  await page.getByText('Quota refreshed.').waitFor();
  return page;
}

/** What has keyboard focus: its aria-label, or its text; BODY when nothing has. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'BODY';
    return element.getAttribute('aria-label') || element.textContent?.trim() || element.tagName;
  });
}

const card = (page: Page, name: string) =>
  page.getByRole('article', { name: `Profile ${name}`, exact: true });
const row = (page: Page, name: string) => page.locator(`li[data-profile-row="${name}"]`);

/** The names whose card (or row) carries the "New sessions" mark. */
async function marked(page: Page, view: 'list' | 'cards'): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) {
    const holder = view === 'cards' ? card(page, name) : row(page, name);
    if ((await holder.getByText('New sessions', { exact: true }).count()) > 0) found.push(name);
  }
  return found;
}

describe.skipIf(!hasChromium)('which account is in use, and focus through its actions', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: names.map((name) => ({ email: emailOf(name), usagePerTurn: 0 })),
    });
    // beta has the most left, so Auto gives new sessions to beta.
    fake.account(emailOf('alpha')).primary!.usedPercent = 60;
    fake.account(emailOf('beta')).primary!.usedPercent = 10;
    fake.account(emailOf('gamma')).primary!.usedPercent = 40;
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        await seedProfiles(
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

  it('marks, in Auto, the account new sessions go to on its card and its row, and follows the quota', async () => {
    const cards = await openPage('cards');
    const list = await openPage('list');
    await expect.poll(() => marked(cards, 'cards')).toEqual(['beta']);
    await expect.poll(() => marked(list, 'list')).toEqual(['beta']);
    // The mark fits its row's state column: the row stays one line, as tall as the others.
    const height = (name: string) =>
      row(list, name).evaluate((element) => element.getBoundingClientRect().height);
    expect(await height('beta')).toBe(await height('alpha'));
    // beta runs low: gamma has the most left now, and the mark moves there.
    fake.account(emailOf('beta')).primary!.usedPercent = 95;
    await list.getByRole('button', { name: 'Refresh quota' }).click();
    await expect.poll(() => marked(list, 'list'), { timeout: 10_000 }).toEqual(['gamma']);
    await expect.poll(() => marked(cards, 'cards'), { timeout: 10_000 }).toEqual(['gamma']);
    fake.account(emailOf('beta')).primary!.usedPercent = 10;
    await list.getByRole('button', { name: 'Refresh quota' }).click();
    await expect.poll(() => marked(list, 'list'), { timeout: 10_000 }).toEqual(['beta']);
    await cards.context().close();
    await list.context().close();
  });

  it('keeps focus in the card after Make active by keyboard, whose button goes', async () => {
    const page = await openPage('cards');
    const makeActive = card(page, 'gamma').getByRole('button', { name: 'Make active' });
    await makeActive.focus();
    await page.keyboard.press('Enter');
    await card(page, 'gamma').getByText('Active', { exact: true }).waitFor();
    await makeActive.waitFor({ state: 'detached' });
    await expect.poll(() => focused(page)).not.toBe('BODY');
    expect(
      await card(page, 'gamma').evaluate((element) => element.contains(document.activeElement)),
    ).toBe(true);
    // Back to Auto for the other tests.
    await page.getByRole('button', { name: 'Auto (best account)' }).click();
    await card(page, 'gamma').getByRole('button', { name: 'Make active' }).waitFor();
    await page.context().close();
  });

  it('closes a card opened from the list with Escape, back to its row; Escape in its rename cancels only that', async () => {
    const page = await openPage('list');
    const open = row(page, 'alpha').getByRole('button', { name: /^alpha\b/ });
    await open.focus();
    await page.keyboard.press('Enter');
    await card(page, 'alpha').waitFor();
    // Escape in the rename form closes the form, not the card.
    await card(page, 'alpha').getByRole('button', { name: 'Rename alpha' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'New name for alpha' }).waitFor();
    await page.keyboard.press('Escape');
    await card(page, 'alpha').getByRole('button', { name: 'Rename alpha' }).waitFor();
    expect(await card(page, 'alpha').count()).toBe(1);
    expect(await focused(page)).toBe('Rename alpha');
    // Escape anywhere else in the card closes it, and the row takes focus back.
    await page.keyboard.press('Escape');
    await card(page, 'alpha').waitFor({ state: 'detached' });
    expect(await open.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await open.getAttribute('aria-expanded')).toBe('false');
    await page.context().close();
  });
});
