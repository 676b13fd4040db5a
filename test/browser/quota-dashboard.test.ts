/**
 * The quota at a glance in real Chromium, served by the real `codex-lab serve` against the fake
 * ChatGPT: the pool banner with the fake's numbers (and the next free time when every profile is
 * limited), a card with credits, reset credits, another limit family, the forecast and the
 * history chart, and the per-request log listing a fallback with both profiles and the token
 * counts the fake sent.
 * Screenshots of the banner, a card and the log, light and dark: into docs/screenshots/ with
 * CODEX_LAB_UPDATE_SCREENSHOTS=1, else into a temporary folder removed after the test.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { QuotaFile } from '../../core/state/schema.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  routerTurn,
  screenshotFolder,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let page: Page;

/** Nine hours of saved history: work's weekly window burned 1 %/h, team's barely moved. */
function savedQuota(): QuotaFile {
  const now = Date.now();
  const profile = (email: string, weeklyFrom: number, perHour: number) => {
    const account = fake.account(email);
    const history = [];
    for (let minutes = 9 * 60; minutes >= 5; minutes -= 5) {
      history.push({
        at: now - minutes * 60_000,
        primary: account.primary!.usedPercent,
        secondary: weeklyFrom + perHour * (9 - minutes / 60),
      });
    }
    const last = history.at(-1)!;
    return {
      latest: {
        observedAt: last.at,
        source: 'usage' as const,
        plan: 'plus',
        primary: {
          usedPercent: account.primary!.usedPercent,
          windowMinutes: 300,
          resetsAt: account.primary!.resetAt * 1000,
        },
        secondary: {
          usedPercent: last.secondary,
          windowMinutes: 10080,
          resetsAt: account.secondary!.resetAt * 1000,
        },
        credits: null,
        activeLimit: null,
        limitReached: false,
        others: [],
      },
      history,
    };
  };
  return {
    version: 1,
    profiles: {
      work: profile('work@example.com', 11, 1),
      team: profile('team@example.com', 19.1, 0.1),
    },
  };
}

describe.skipIf(!hasChromium)('quota at a glance in the dashboard', () => {
  beforeAll(async () => {
    buildRenderer();
    const nowSeconds = Math.floor(Date.now() / 1000);
    fake = await startFakeChatGpt({
      accounts: [
        {
          email: 'work@example.com',
          credits: { hasCredits: true, unlimited: false, balance: '12.50' },
          resetCredits: [1, 2, 3].map((index) => ({
            id: `rc-${index}`,
            resetType: 'codex_rate_limits',
            // The third was redeemed already: two are available.
            status: index === 3 ? 'redeemed' : 'available',
            grantedAt: nowSeconds - index * 86400,
            expiresAt: nowSeconds + (index + 3) * 86400,
            title: 'Full reset (Weekly + 5 hr)',
          })),
          additionalLimits: [
            {
              limitName: 'GPT-5.3-Codex-Spark',
              meteredFeature: 'codex_bengalfox',
              primary: {
                usedPercent: 5,
                windowMinutes: 300,
                resetAt: nowSeconds + 3600,
                unstarted: false,
              },
            },
          ],
        },
        { email: 'team@example.com', usageTokens: { input: 1200, cached: 800, reasoning: 0 } },
      ],
    });
    for (const email of ['work@example.com', 'team@example.com']) {
      fake.account(email).usagePerTurn = 0;
    }
    serve = await startServe(
      { CODEX_LAB_AUTH_ISSUER: fake.issuerUrl, CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl },
      async (home) => {
        await seedProfiles(fake, home, [
          { name: 'work', email: 'work@example.com' },
          { name: 'team', email: 'team@example.com' },
        ]);
        await mkdir(join(home, 'state'), { recursive: true, mode: 0o700 });
        await writeFile(join(home, 'state', 'quota.json'), JSON.stringify(savedQuota()), {
          mode: 0o600,
        });
      },
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  const banner = () => page.getByRole('region', { name: 'Pool summary' });
  const card = (name: string) => page.getByRole('article', { name: `Profile ${name}` });

  it('heads the page with the pool: the fake’s headroom, who a new session gets, the week', async () => {
    await page.getByRole('button', { name: 'Refresh quota' }).click();
    // Both accounts: 5-hour 10 %, weekly 20 % → the tightest window leaves 80 % each.
    await expect
      .poll(() => banner().getByTestId('pool-headroom').textContent(), { timeout: 20_000 })
      .toBe('80%');
    expect(await banner().getByTestId('pool-headline').textContent()).toBe(
      '2 of 2 accounts ready.',
    );
    expect(await banner().getByTestId('pool-next').textContent()).toMatch(
      /^New sessions → work · Best: 80% left in its tightest window/,
    );
    expect(await banner().getByTestId('pool-forecast').textContent()).toMatch(
      // 160 % left at 1.1 %/h lasts about 145 hours: past the weekly resets in 4 days.
      /^This week: at this week's pace the pool lasts past the next reset \(\w{3} \d\d:\d\d\)$/,
    );
    expect(await page.getByTestId('sessions-next').textContent()).toBe('→ work now');
  });

  it('shows credits, another limit family, the forecast and the chart on a card', async () => {
    const work = card('work');
    await expect
      .poll(() => work.getByTestId('credits').textContent(), { timeout: 20_000 })
      .toBe('balance 12.50');
    // In the words `usage` and `list` print (`familyLimitParts`): a window not reported is said.
    expect(await work.getByTestId('limit-family').textContent()).toMatch(
      /^5-hour 95% left, resets in \d+m; weekly not known yet$/,
    );
    expect(await work.getByText('GPT-5.3-Codex-Spark limit', { exact: true }).count()).toBe(1);
    expect(await work.getByTestId('forecast').textContent()).toMatch(
      /^Weekly pace 1\.\d%\/h: runs out \w{3} \d\d:\d\d, before the weekly reset\.$/,
    );
    // Two banked resets, the sooner expiring in four days (a day name, not a bare time).
    expect(await work.getByTestId('reset-credits').textContent()).toMatch(
      /^2 available · next expires \w{3} \d\d:\d\d$/,
    );
    // An account without credits or reset credits shows none (absent, not "0").
    expect(await card('team').getByTestId('credits').count()).toBe(0);
    expect(await card('team').getByTestId('reset-credits').count()).toBe(0);
    expect(await card('team').getByTestId('forecast').textContent()).toMatch(
      /^Weekly pace \d+\.\d%\/h: fine until the weekly reset\.$/,
    );
    // The chart: axes, points with tooltips, the 5-hour reset ahead, the pace line.
    expect(await work.getByTestId('history-point').count()).toBeGreaterThan(20);
    expect(await work.getByTestId('history-reset').count()).toBeGreaterThanOrEqual(1);
    expect(await work.getByTestId('history-pace').count()).toBe(1);
    expect(await work.locator('svg .axis-label').allTextContents()).toEqual(
      expect.arrayContaining(['0%', '50%', '100%']),
    );
    const tooltip = await work.getByTestId('history-point').last().locator('title').textContent();
    expect(tooltip).toMatch(/^\d\d:\d\d — weekly \d+% left$/);
    await work.getByRole('button', { name: '7 days' }).click();
    expect(await work.getByRole('img').getAttribute('aria-label')).toMatch(/last 7 days/);
    await work.getByRole('button', { name: '24 h' }).click();
  });

  it('lists a fallback with both profiles and the fake’s token counts in the request log', async () => {
    await card('work').getByRole('button', { name: 'Make active' }).click();
    await card('work').getByText('Active', { exact: true }).waitFor();
    fake.account('work@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const response = await routerTurn(serve, '0199aabb-0000-7000-8000-00000091a4ce');
    expect(response.headers.get('x-codex-lab-route')).toBe('fallback');
    const log = page.getByRole('table', { name: 'Request log' });
    const row = log.locator('tr[data-request]').first();
    await expect
      .poll(() => row.getByTestId('request-chain').textContent(), { timeout: 20_000 })
      .toBe('work → ');
    expect(await row.getByTestId('request-profile').textContent()).toMatch(
      /^work → team\s*fallback after work was limited: [^·]+$/,
    );
    // The upstream's 429 and the router's "was limited" are one fact: said once, as the log says it.
    expect(await row.getByTestId('request-profile').textContent()).not.toContain(
      'usage_limit_reached',
    );
    expect(await row.getByTestId('request-tokens').textContent()).toMatch(/^1\.2k \/ 800 \/ \d+$/);
    expect(
      await page
        .getByRole('table', { name: 'Requests and tokens per profile' })
        .locator('tr[data-total="team"]')
        .textContent(),
    ).toMatch(/1 req · 1\.2k in \(800 cached\)/);
    // Filters: by profile and by session.
    await page.getByRole('combobox', { name: 'Filter by profile' }).selectOption('work');
    expect(await log.count()).toBe(0);
    await page.getByRole('combobox', { name: 'Filter by profile' }).selectOption('');
    await page
      .getByRole('combobox', { name: 'Filter by session' })
      .selectOption('0199aabb-0000-7000-8000-00000091a4ce');
    expect(await page.getByTestId('session-total').textContent()).toMatch(
      /This session — today: 1 req · 1\.2k in \(800 cached\)/,
    );
    await page.getByRole('combobox', { name: 'Filter by session' }).selectOption('');
  });

  it('beside an active account that cannot take new sessions, names the one that gets them', async () => {
    // Since the fallback, work is active and limited: new sessions go to team, not to work.
    await expect
      .poll(() => banner().getByTestId('pool-next').textContent(), { timeout: 20_000 })
      .toMatch(/^New sessions → team · /);
    const routing = page.getByRole('group', { name: 'Routing mode' });
    expect(await routing.getByTestId('sessions-next').textContent()).toBe('→ team now');
    expect(await routing.getByTestId('sessions-next').getAttribute('title')).toMatch(
      /^Active work is limited/,
    );
  });

  it('says, where a session is pinned to a limited account, that its turns will be refused', async () => {
    // work is still limited: a session pinned to it strictly gets usage-limit errors, as the CLI warns.
    const select = page.getByRole('combobox', { name: 'Pin session …0091a4ce to' });
    await select.selectOption('work');
    const pinRow = page
      .getByRole('table', { name: 'Pins' })
      .locator('tr[data-pin="0199aabb-0000-7000-8000-00000091a4ce"]');
    await pinRow.waitFor();
    const warning =
      /^work is limited, back in (59m|1h), at \d\d:\d\d: sessions pinned to it get usage-limit errors until then\.$/;
    expect(await pinRow.getByTestId('pin-warning').textContent()).toMatch(warning);
    const sessionRow = page.locator('tr[data-session="0199aabb-0000-7000-8000-00000091a4ce"]');
    expect(await sessionRow.getByTestId('pin-warning').textContent()).toMatch(warning);
    // Unpinned, nothing is left to warn about.
    await select.selectOption('');
    // (The unpin reaches the page as the next state push: seconds on a loaded machine.)
    await expect
      .poll(() => sessionRow.getByTestId('pin-warning').count(), { timeout: 20_000 })
      .toBe(0);
  });

  it('when every profile is limited, the banner names the next free account and time', async () => {
    fake.account('team@example.com').stickyFailure = { kind: 'usage_limit', resetsInSeconds: 7200 };
    const refused = await routerTurn(serve, 'glance-2');
    expect(refused.status).toBe(429);
    await expect
      .poll(() => banner().getByTestId('pool-headline').textContent(), { timeout: 20_000 })
      .toMatch(/^All accounts are limited\. Next free: work at \d\d:\d\d \(in (59m|1h)\)/);
    expect(await banner().getByTestId('pool-headroom').textContent()).toBe('0%');
    expect(await banner().getByTestId('pool-next').textContent()).toBe(
      'New sessions → none can take one now',
    );
    // The header beside the routing choice says it in the banner's words.
    expect(await page.getByTestId('sessions-next').textContent()).toBe('→ none can take one now');
    const refusedRow = page.locator('tr.request-refused').first();
    await refusedRow.waitFor({ timeout: 20_000 });
    expect(await refusedRow.textContent()).toContain('429');
  });

  it('has light and dark looks (screenshots of the banner, a card and the log)', async () => {
    const folder = screenshotFolder();
    await page.mouse.move(0, 0);
    for (const theme of ['Light', 'Dark'] as const) {
      await page
        .getByRole('radiogroup', { name: 'Theme' })
        .getByRole('radio', { name: theme })
        .click();
      const suffix = theme.toLowerCase();
      await banner().screenshot({ path: join(folder, `pool-banner-${suffix}.png`) });
      await card('work').screenshot({ path: join(folder, `profile-card-${suffix}.png`) });
      await page
        .locator('section.requests')
        .screenshot({ path: join(folder, `request-log-${suffix}.png`) });
    }
    await page
      .getByRole('radiogroup', { name: 'Theme' })
      .getByRole('radio', { name: 'Auto' })
      .click();
  });
});
