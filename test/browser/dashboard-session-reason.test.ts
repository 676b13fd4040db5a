/**
 * What the dashboard says about routing and failed card actions, in real Chromium against the
 * real `codex-lab serve` and the fake ChatGPT: the live sessions say the rule the router used for
 * each session's last turn (a new session kept with a recent one's prompt cache is not "best"),
 * and the Requests panel says the same words for each request; at 1280×800 the sessions table
 * is readable (its why wide enough, its pin menu and its session id whole),
 * a failed action on a card further down the page says why on that card, in sight, and a turn
 * whose stream the upstream cut reads as cut beside its status.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { requestStatusText } from '../../core/format.ts';
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
let context: BrowserContext;
let page: Page;

/** True when the element is wholly inside the window. */
function isInView(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    return box.top >= -1 && box.bottom <= window.innerHeight + 1;
  });
}

/** The "Why" cell of a session's row. */
const why = (session: string) => page.locator(`tr[data-session="${session}"] td >> nth=2`);

/** What the Requests panel says of each request of a session (newest first). */
const requestWhy = (session: string) =>
  page
    .locator('tr[data-request]', { has: page.locator(`code[title="${session}"]`) })
    .getByTestId('request-route');

describe.skipIf(!hasChromium)('what the dashboard says about routing and failed actions', () => {
  beforeAll(async () => {
    buildRenderer();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    });
    for (const email of ['alpha@example.com', 'beta@example.com']) {
      fake.account(email).usagePerTurn = 0;
    }
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        await seedProfiles(fake, home, [
          { name: 'alpha', email: 'alpha@example.com' },
          { name: 'beta', email: 'beta@example.com' },
        ]);
      },
    );
    browser = await launchChromium();
    context = await browser.newContext();
    await showAccountsAs(context, 'cards');
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 700 });
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
    await page.getByText(/Router on http:\/\/127\.0\.0\.1/).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('says a session kept with a recent session for the prompt cache is there for it, not "best"', async () => {
    const alpha = fake.account('alpha@example.com');
    alpha.primary!.usedPercent = 10;
    fake.account('beta@example.com').primary!.usedPercent = 50;
    // Codex in a git repository names it in its turn metadata; outside one it names none.
    const inRepository = {
      'x-codex-turn-metadata': JSON.stringify({ workspaces: { '/home/user/project': {} } }),
    };
    const outside = { 'x-codex-turn-metadata': JSON.stringify({ model: 'gpt-5.5' }) };
    const turn = (session: string, headers = inRepository) => routerTurn(serve, session, headers);
    const first = await turn('why-1');
    const home = first.headers.get('x-codex-lab-profile');
    expect(home).not.toBeNull();
    // That account fills up (its next answer says so): beta is now the best by quota...
    const other = home === 'alpha' ? 'beta' : 'alpha';
    fake.account(`${home}@example.com`).primary!.usedPercent = 90;
    fake.account(`${other}@example.com`).primary!.usedPercent = 5;
    expect((await turn('why-1')).headers.get('x-codex-lab-profile')).toBe(home);
    // ...yet a new session of the same repo and model goes where the recent one is, for its prompt
    // cache.
    expect((await turn('why-2')).headers.get('x-codex-lab-profile')).toBe(home);
    // A session in no repository shares no repository's cache: the best by quota, said so.
    expect((await turn('why-3', outside)).headers.get('x-codex-lab-profile')).toBe(other);

    await why('why-2').waitFor({ timeout: 20_000 });
    await expect
      .poll(() => why('why-2').textContent())
      .toBe('with a recent session of its repo and model, for the prompt cache');
    await expect
      .poll(() => why('why-1').textContent())
      .toBe('kept on its account for the prompt cache');

    // The Requests panel says the same rule for each turn, not the header's "best".
    await expect
      .poll(() => requestWhy('why-2').allTextContents())
      .toEqual(['with a recent session of its repo and model, for the prompt cache']);
    await expect
      .poll(() => requestWhy('why-1').allTextContents())
      .toEqual(['kept on its account for the prompt cache', 'best by quota']);
    await expect.poll(() => why('why-3').textContent(), { timeout: 20_000 }).toBe('best by quota');
    await expect
      .poll(() => requestWhy('why-3').allTextContents(), { timeout: 20_000 })
      .toEqual(['best by quota']);
  });

  it('gives live sessions a readable table at 1280×800: the why wide enough, nothing cut off', async () => {
    await routerTurn(serve, 'sess-live-1');
    const wide = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const view = await wide.newPage();
    await view.goto(`${serve.url}/ui/#token=${serve.token}`);
    const panel = view.getByRole('region', { name: 'Live sessions' });
    await panel.locator('tr[data-session="sess-live-1"]').waitFor({ timeout: 20_000 });
    await panel.scrollIntoViewIfNeeded();
    const layout = await panel.evaluate((section) => {
      const box = section.getBoundingClientRect();
      const wrap = section.querySelector('.table-wrap')!;
      const row = section.querySelector('tr[data-session="sess-live-1"]')!;
      const cells = [...row.querySelectorAll('td')];
      const parts = [...row.querySelectorAll('td, code, select, [data-testid="session-why"]')];
      return {
        scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
        sticking: parts
          .filter((part) => part.getBoundingClientRect().right > box.right + 0.5)
          .map((part) => part.outerHTML.slice(0, 60)),
        whyWidth: cells[2]!.getBoundingClientRect().width,
        // An inline element has one box per line it takes.
        idLines: row.querySelector('code')!.getClientRects().length,
      };
    });
    expect(layout.sticking).toEqual([]);
    expect(layout.scrolls).toBe(false);
    expect(layout.whyWidth).toBeGreaterThanOrEqual(200);
    expect(layout.idLines).toBe(1);
    await wide.close();
  });

  it('shows a failed action of a card further down on that card, in sight, not only at the top', async () => {
    const card = page.getByRole('article', { name: 'Profile beta', exact: true });
    const makeActive = card.getByRole('button', { name: 'Make active' });
    await makeActive.scrollIntoViewIfNeeded();
    // The registry lock cannot be made while the home's locks folder is a file: setActive
    // fails as a value (`corrupt_file`), as it would on a damaged home.
    const locks = join(serve.home, 'state', 'locks');
    renameSync(locks, `${locks}.aside`);
    writeFileSync(locks, 'not a folder');
    try {
      await makeActive.click();
      const error = card.getByRole('alert');
      await error.waitFor({ timeout: 10_000 });
      expect(await error.textContent()).toMatch(/is a file, not a folder/);
      expect(await isInView(error)).toBe(true);
      // Not also in the page's notice, scrolled out of sight at the top.
      expect(await page.locator('.notice').count()).toBe(0);
    } finally {
      rmSync(locks, { force: true });
      renameSync(`${locks}.aside`, locks);
    }
  });

  it('says a turn whose stream the upstream cut was cut, beside the status, as the log does', async () => {
    // Over HTTP: a WebSocket drop the router resumes never reaches Codex.
    fake.webSocketUpgrades = 'refuse';
    for (const email of ['alpha@example.com', 'beta@example.com']) {
      fake.account(email).failures.push({ kind: 'reset_mid_stream' });
    }
    // The turn's answer is read whole: the cut stream fails it, as Codex's stream fails.
    await expect(routerTurn(serve, 'sess-cut')).rejects.toThrow();
    for (const email of ['alpha@example.com', 'beta@example.com']) {
      fake.account(email).failures.length = 0;
    }
    const status = page
      .locator('tr[data-request]', { has: page.locator('code[title="sess-cut"]') })
      .getByTestId('request-status');
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(requestStatusText({ status: 200, ending: 'upstream_cut' }));
    expect(await status.getAttribute('class')).toBe('status-bad');
  });
});
