/**
 * The dashboard as someone trying Codex Lab saw it, in real Chromium at 800 px wide (the page's
 * own `serve`, showing given states through `showLabState`): the live sessions of a removed
 * profile are in sight under its removed name, and an empty table says no session is live rather
 * than that none ever went through when Requests lists some; long profile names and session ids
 * stay inside the activity log (wrapped, or cut with the whole in a title), a 53-character
 * profile name keeps the sessions' "Pin to…" menu inside its card, and the accounts toolbar
 * breaks between words, never inside one; a quota bar's reset says its local clock time beside
 * its countdown (`resets 14:05 (in 3h 12m)`, `resets Tue 09:00 (in 4d)` further away).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { formatClockTime } from '../../core/format.ts';
import type { LabState } from '../../core/service/contract.ts';
import type { SessionView } from '../../core/view-types.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { uiProfile, uiRequest, uiState } from '../helpers/ui-lab-state.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  showLabState,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;

/** A 53-character profile name, as a long team-and-project name reads. */
const longName = 'client-acme-enterprise-research-team-night-shift-2030';
/** A session id as Codex sends it (a UUID) and a longer one another client might send. */
const longSession = '0199d7a3-5b3e-7c21-9f4e-8a2b6c1d0e9f-and-a-long-suffix-with-no-spaces';

/** A live session on `profile`. */
function session(id: string, profile: string): SessionView {
  return {
    id,
    profile,
    route: 'sticky',
    why: { rule: 'session', pin: null, left: [] },
    repo: null,
    model: 'gpt-5.5',
    pinned: null,
    requests: 3,
    startedAt: '2030-01-01T11:00:00.000Z',
    lastSeenAt: '2030-01-01T11:59:00.000Z',
  };
}

/** A fresh 800×700 page of the dashboard showing `state`. */
async function pageShowing(state: LabState): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
  await showLabState(context, state);
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/#token=${serve.token}`);
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  return page;
}

describe.skipIf(!hasChromium)('the dashboard as an outsider saw it, at 800 px', () => {
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

  it('shows a removed profile’s live sessions, and never says no session went through when some did', async () => {
    const removed = 'alice (removed)';
    const withSession = await pageShowing(
      uiState([uiProfile('bob')], {
        requests: [uiRequest({ sessionId: 'sess-1', profile: removed })],
        sessions: [session('sess-1', removed)],
      }),
    );
    const panel = withSession.getByRole('region', { name: 'Live sessions' });
    await expect
      .poll(() =>
        panel.locator('tr[data-session="sess-1"]').getByTestId('session-profile').textContent(),
      )
      .toBe(removed);
    await withSession.context().close();

    // No live session (idle past the TTL), while Requests still lists its turns.
    const gone = await pageShowing(
      uiState([uiProfile('bob')], {
        requests: [uiRequest({ sessionId: 'sess-1', profile: removed })],
      }),
    );
    const empty = gone.getByRole('region', { name: 'Live sessions' });
    await empty.locator('p').waitFor();
    const sentence = await empty.locator('p').textContent();
    expect(sentence).not.toMatch(/yet/);
    expect(sentence).toMatch(/Requests/);
    await gone.context().close();
  });

  it('keeps long profile names and session ids inside the activity log', async () => {
    const page = await pageShowing(
      uiState([uiProfile(longName)], {
        activity: [
          {
            id: 1,
            at: '2030-01-01T11:58:00.000Z',
            kind: 'route',
            profile: longName,
            message: `${longSession} → ${longName} (best by quota)`,
          },
        ],
      }),
    );
    const log = page.getByRole('log', { name: 'Activity log' });
    await log.waitFor();
    const overflow = await log.evaluate((list) => {
      const wide: string[] = [];
      for (const element of [list, ...list.querySelectorAll('*')]) {
        // Text cut short must be readable whole somewhere: in the element's own title.
        const clipped = element.scrollWidth > element.clientWidth + 1;
        const titled = element.getAttribute('title') === element.textContent;
        if (clipped && !(titled && getComputedStyle(element).textOverflow === 'ellipsis')) {
          wide.push(`${element.className}: ${element.scrollWidth} > ${element.clientWidth}`);
        }
      }
      return wide;
    });
    expect(overflow).toEqual([]);
    // The name is cut, whole in its title, and the message keeps room to be read.
    const profile = log.locator('.log-profile');
    expect(await profile.getAttribute('title')).toBe(longName);
    const message = await log.locator('.log-message').boundingBox();
    expect(message!.width).toBeGreaterThanOrEqual(190);
    await page.context().close();
  });

  it('keeps the sessions’ “Pin to…” menu inside its card with a 53-character profile name', async () => {
    const page = await pageShowing(
      uiState([uiProfile(longName), uiProfile('work')], {
        sessions: [session('sess-pin', 'work')],
      }),
    );
    const panel = page.getByRole('region', { name: 'Live sessions' });
    const menu = panel.getByRole('combobox');
    await menu.waitFor();
    const boxes = await panel.evaluate((card) => {
      const outer = card.getBoundingClientRect();
      const select = card.querySelector('select')!.getBoundingClientRect();
      const wrap = card.querySelector('.table-wrap')!;
      return {
        card: { left: outer.left, right: outer.right },
        select: { left: select.left, right: select.right },
        scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
      };
    });
    expect(boxes.select.left).toBeGreaterThanOrEqual(boxes.card.left);
    expect(boxes.select.right).toBeLessThanOrEqual(boxes.card.right);
    expect(boxes.scrolls).toBe(false);
    await page.context().close();
  });

  it('breaks the toolbars between words at 800 px, never inside one', async () => {
    const names = ['personal', 'work', 'team-alpha', 'client-acme-long-project-name'];
    const state = uiState(
      names.map((name) => uiProfile(name)),
      { requests: [uiRequest({ profile: 'work' })], sessions: [session('s-1', 'work')] },
    );
    // New sessions go to the long name: the toolbar says so.
    state.pool.next.profile = names[3]!;
    const page = await pageShowing(state);
    await page.getByRole('button', { name: 'Refresh quota' }).waitFor();
    const broken = await page.evaluate(() => {
      const words: string[] = [];
      for (const bar of document.querySelectorAll('.topbar, .section-head, .actions')) {
        const walker = document.createTreeWalker(bar, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const text = node.textContent ?? '';
          for (const match of text.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            // A word on one line has one line box; one split across lines has a box per line.
            const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
            if (tops.size > 1) words.push(match[0]);
          }
        }
      }
      return words;
    });
    expect(broken).toEqual([]);
    await page.context().close();
  });

  it('gives each quota bar’s reset countdown its local clock time, as every surface words it', async () => {
    const soon = new Date(Date.now() + 3 * 3_600_000 + 12 * 60_000).toISOString();
    const later = new Date(Date.now() + 4 * 86_400_000).toISOString();
    const page = await pageShowing(
      uiState([
        uiProfile('work', {
          quota: {
            primary: { usedPercent: 12, windowMinutes: 300, resetsAt: soon },
            secondary: { usedPercent: 40, windowMinutes: 10080, resetsAt: later },
            updatedAt: new Date().toISOString(),
          },
        }),
      ]),
    );
    const card = page.getByRole('article', { name: 'Profile work' });
    const resets = card.getByTestId('quota-reset');
    await resets.first().waitFor();
    const [now, timeZone] = await page.evaluate(() => [
      Date.now(),
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    ]);
    const clock = (iso: string) =>
      `resets ${formatClockTime(Date.parse(iso), { now: now as number, timeZone: timeZone as string })}`;
    // In the bar's words, beside its countdown: a hover title is out of reach by keyboard and touch.
    const shown = await resets.evaluateAll((spans) => spans.map((span) => span.textContent));
    expect(shown[0]).toContain(`${clock(soon)} (in 3h 1`);
    expect(shown[1]).toContain(`${clock(later)} (in 3d 23h)`);
    // The near one is today's time alone, the far one has its weekday.
    expect(clock(soon)).toMatch(/^resets \d{2}:\d{2}$/);
    expect(clock(later)).toMatch(/^resets [A-Z][a-z]{2} \d{2}:\d{2}$/);
    expect(shown[0]).toMatch(/resets \d{2}:\d{2} \(in 3h 1[12]m\)/);
    await page.context().close();
  });
});
