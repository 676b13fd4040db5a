/**
 * `codex-lab log [--follow] [--json]` and the line `codex-lab codex` prints after Codex exits,
 * against a real router (LabService on loopback) and the fake ChatGPT. The stand-in Codex
 * honours the `-c` overrides as Codex does: it posts one turn to the provider's base URL with the
 * `env_http_headers` taken from its environment.
 */
import { spawn } from 'node:child_process';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliEntry, runCodexLab } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  startTestRouter,
  turnThroughRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';
import { routeRuleText, routeWhyText } from '../../core/format.ts';
import { calendarStarts } from '../../core/router/request-log.ts';
import { tempFolder } from '../helpers/temp-folder.ts';
import { scriptRefresh } from '../fakes/fake-issuer.ts';

let router: TestRouter;
let codexBin: string;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-cli-log-',
    // Found by `codex-lab codex` as this home's router, as a running serve is.
    hosted: true,
    accounts: [
      { email: 'work@example.com', usageTokens: { input: 300, cached: 200, reasoning: 0 } },
      { email: 'team@example.com', usageTokens: { input: 1200, cached: 800, reasoning: 0 } },
    ],
    profiles: [
      ['work@example.com', 'work'],
      ['team@example.com', 'team'],
    ],
  });
  await router.service.setActive({ profile: 'work' });
  codexBin = join(router.home, 'fake-codex.mjs');
  const body = JSON.stringify(codexTurnBody());
  await writeFile(
    codexBin,
    `#!${process.execPath}
const args = process.argv.slice(2);
const overrides = args.filter((_, index) => args[index - 1] === '-c');
const value = (suffix) => overrides.find((entry) => entry.includes(suffix + '='))?.split(suffix + '=')[1];
const baseUrl = JSON.parse(value('.base_url'));
// The bearer comes from the provider's token command, as Codex runs it (no shell).
const auth = /command = (".*?"), args = (\\[.*\\])/.exec(value('.auth'));
const { execFileSync } = await import('node:child_process');
const token = execFileSync(JSON.parse(auth[1]), JSON.parse(auth[2]), { encoding: 'utf8' }).trim();
const headers = {
  authorization: 'Bearer ' + token,
  'content-type': 'application/json',
  'session-id': args.at(-1),
};
for (const [, header, variable] of (value('.env_http_headers') ?? '').matchAll(/"([^"]+)" ?= ?"([^"]+)"/g)) {
  if (process.env[variable]) headers[header] = process.env[variable];
}
const response = await fetch(baseUrl + '/responses', { method: 'POST', headers, body: ${JSON.stringify(body)} });
await response.text();
console.log('turn answered by ' + response.headers.get('x-codex-lab-profile'));
`,
  );
  await chmod(codexBin, 0o755);
});

afterAll(() => router.close());

function codexLab(args: string[]) {
  return runCodexLab(args, {
    home: router.home,
    env: {
      CODEX_LAB_CODEX_BIN: codexBin,
      CODEX_LAB_PORT: new URL(router.url).port,
    },
  });
}

describe('codex-lab codex: the line after Codex exits', () => {
  it('prints nothing when no turn moved', async () => {
    const run = await codexLab(['codex', '--', 'exec', 'session-calm']);
    expect(run.stdout).toContain('turn answered by work');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('prints one stderr line when a turn moved: from → to at time, and until when', async () => {
    router.fake
      .account('work@example.com')
      .failures.push({ kind: 'usage_limit', resetsInSeconds: 7200 });
    const run = await codexLab(['codex', '--', 'exec', 'session-moved']);
    expect(run.stdout).toContain('turn answered by team');
    expect(run.code).toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^codex-lab: this run: work → team at \d\d:\d\d, work limited until \d\d:\d\d$/,
    );
  });
});

describe('codex-lab log', () => {
  it('--json prints one object per request with profile, route, status, timings, tokens, fallback', async () => {
    await router.service.stop();
    const run = await runCodexLab(['log', '--json'], { home: router.home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const requests = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const turns = requests.filter((request) => request.kind === 'responses');
    expect(turns).toEqual([
      expect.objectContaining({
        sessionId: 'session-calm',
        profile: 'work',
        route: 'active',
        status: 200,
        tokens: expect.objectContaining({ input: 300, cached: 200 }),
        fallback: [],
      }),
      expect.objectContaining({
        sessionId: 'session-moved',
        profile: 'team',
        route: 'fallback',
        status: 200,
        tokens: expect.objectContaining({ input: 1200, cached: 800 }),
        fallback: [{ profile: 'work', reason: 'usage_limit_reached' }],
      }),
    ]);
    expect(typeof turns[0].runId).toBe('string');
    expect(turns[0].runId).not.toBe(turns[1].runId);
    expect(turns[1].ttfbMs).toBeGreaterThanOrEqual(0);

    const human = await runCodexLab(['log', '--profile', 'team'], { home: router.home });
    // The rule in ROUTE; the account it left, and why, once in FALLBACK (the upstream's 429 and
    // the router's reading of it are one fact).
    const moved = human.stdout.split('\n').find((line) => line.includes('session-moved'));
    expect(moved).toMatch(/session-moved +team +best by quota +gpt-5\.5 +200 .* work was limited$/);
    expect(moved?.split('work')).toHaveLength(2);
    for (const line of human.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    // --wide: every column, the token counts in full.
    const wide = await runCodexLab(['log', '--profile', 'team', '--wide'], { home: router.home });
    expect(wide.stdout).toMatch(
      /session-moved +team +best by quota +gpt-5\.5 +200 +\S+ +\S+ +1200\/800\/\d+ +work was limited$/m,
    );
    expect(human.stdout).not.toContain('session-calm');
    expect(human.stdout).toMatch(/Today: team 1 request, 1200 in \/ \d+ out \(800 cached\)/);
    // Typed in upper case, it is that profile, as for every other command.
    const upper = await runCodexLab(['log', '--profile', 'TEAM'], { home: router.home });
    expect(upper.code, upper.stderr).toBe(0);
    expect(upper.stdout).toBe(human.stdout);
    // A name that is no profile is said as such, as every other command says it.
    const typo = await runCodexLab(['log', '--profile', 'tem'], { home: router.home });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      'codex-lab: There is no profile named "tem" (did you mean team?); run `codex-lab list` to see them.\n',
    );
    await router.service.start({ port: 0 });
  });

  it('--follow --json prints new requests as the router writes them', async () => {
    const child = spawn(process.execPath, [cliEntry, 'log', '--follow', '--json'], {
      env: { ...process.env, CODEX_LAB_HOME: router.home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      // The history is printed first; then a new turn arrives.
      await waitFor(() => output.includes('session-moved'));
      const response = await fetch(`${router.service.routerUrl}/backend-api/codex/responses`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${router.token}`,
          'content-type': 'application/json',
          'session-id': 'session-followed',
        },
        body: JSON.stringify(codexTurnBody()),
      });
      await response.text();
      await waitFor(() => output.includes('session-followed'));
      const last = JSON.parse(output.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ sessionId: 'session-followed', status: 200 });
    } finally {
      child.kill('SIGTERM');
    }
  });
});

/** A hosted router over alpha and beta, whose turns spend no quota (so none is ever limited). */
async function twoAccountRouter(homePrefix: string): Promise<TestRouter> {
  const pool = await startTestRouter({
    homePrefix,
    hosted: true,
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
  });
  for (const email of ['alpha@example.com', 'beta@example.com']) {
    pool.fake.account(email).usagePerTurn = 0;
  }
  return pool;
}

describe('codex-lab log: the ROUTE column says the rule the router recorded', () => {
  let pool: TestRouter;

  beforeAll(async () => {
    pool = await twoAccountRouter('codex-lab-cli-log-why-');
  });

  afterAll(() => pool?.close());

  /** Codex's turn metadata in a git repository: the repository's folder under `workspaces`. */
  const inRepository = {
    'x-codex-turn-metadata': JSON.stringify({
      workspaces: { '/home/user/project': { has_changes: false } },
      model: 'gpt-5.5',
    }),
  };

  it('a new session placed with a recent one for its prompt cache reads as on the dashboard, not "best"', async () => {
    const turn = (session: string) =>
      turnThroughRouter(pool.url, pool.token, session, { session_id: session, ...inRepository });
    pool.fake.account('alpha@example.com').primary!.usedPercent = 10;
    pool.fake.account('beta@example.com').primary!.usedPercent = 50;
    const home = (await turn('cache-1')).headers.get('x-codex-lab-profile');
    expect(home).not.toBeNull();
    // That account fills up (its next answer says so): the other is now the best by quota...
    const other = home === 'alpha' ? 'beta' : 'alpha';
    pool.fake.account(`${home}@example.com`).primary!.usedPercent = 90;
    pool.fake.account(`${other}@example.com`).primary!.usedPercent = 5;
    expect((await turn('cache-1')).headers.get('x-codex-lab-profile')).toBe(home);
    // ...yet a new session of the same model goes where the recent one is, for its prompt cache;
    // the header keeps its five values (a bucket pick is `best`).
    const placed = await turn('cache-2');
    expect(placed.headers.get('x-codex-lab-profile')).toBe(home);
    expect(placed.headers.get('x-codex-lab-route')).toBe('best');
    // The words the dashboard's live sessions show for it.
    const live = (await pool.service.getState()).sessions.find(
      (session) => session.id === 'cache-2',
    );
    const words = routeWhyText(live!.why);
    expect(words).toBe('with a recent session of its repo and model, for the prompt cache');
    // The log's table says the same rule in its short words; --wide in the dashboard's.
    const short = routeRuleText(live!.why, 'short');
    expect(short).toBe('recent session');

    // The journal is written in batches: a stopped router has written all of it.
    await pool.service.stop();
    const table = await runCodexLab(['log'], { home: pool.home });
    expect(table.code, table.stderr).toBe(0);
    const rows = (session: string) =>
      table.stdout.split('\n').filter((line) => line.includes(` ${session} `));
    expect(rows('cache-2')).toHaveLength(1);
    expect(rows('cache-2')[0]).toMatch(new RegExp(`cache-2 +${home} +${short} +gpt-5\\.5 +200 `));
    // Its first turn went to the best by quota; the next stayed on its account.
    const cell = (line: string | undefined) =>
      / (?:alpha|beta) {2,}(.+?) {2,}gpt-5\.5 /.exec(line ?? '')?.[1];
    expect(rows('cache-1').map(cell)).toEqual(['best by quota', 'kept on account']);
    expect(table.stdout).not.toMatch(/cache-2 +\S+ +best /);
    const bySession = await runCodexLab(['log', '--session', 'cache-2'], { home: pool.home });
    expect(bySession.stdout).toMatch(new RegExp(`cache-2 +${home} +${short} +gpt-5\\.5 `));
    const wide = await runCodexLab(['log', '--session', 'cache-2', '--wide'], { home: pool.home });
    expect(wide.stdout).toMatch(new RegExp(`cache-2 +${home} +${words} +gpt-5\\.5 `));

    // --json keeps `route` as it was and adds the recorded rule.
    const json = await runCodexLab(['log', '--session', 'cache-2', '--json'], { home: pool.home });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({
      route: 'best',
      why: { rule: 'cache', pin: null, left: [] },
    });
    await pool.service.start({ port: 0 });
  });
});

describe('codex-lab log: a session in no repository', () => {
  let pool: TestRouter;

  beforeAll(async () => {
    pool = await twoAccountRouter('codex-lab-cli-log-no-repo-');
  });

  afterAll(() => pool?.close());

  it('a new session in no repository is not placed with a recent one, and nothing claims a repository', async () => {
    // Codex run outside a git repository names no workspace: its turn metadata has no
    // `workspaces` member (docs/codex-0.171-notes.md).
    const outside = {
      'x-codex-turn-metadata': JSON.stringify({ model: 'gpt-5.5', reasoning_effort: 'low' }),
    };
    const turn = (session: string) =>
      turnThroughRouter(pool.url, pool.token, session, { session_id: session, ...outside });
    pool.fake.account('alpha@example.com').primary!.usedPercent = 10;
    pool.fake.account('beta@example.com').primary!.usedPercent = 50;
    const first = (await turn('loose-1')).headers.get('x-codex-lab-profile');
    expect(first).not.toBeNull();
    const other = first === 'alpha' ? 'beta' : 'alpha';
    pool.fake.account(`${first}@example.com`).primary!.usedPercent = 90;
    pool.fake.account(`${other}@example.com`).primary!.usedPercent = 5;
    expect((await turn('loose-1')).headers.get('x-codex-lab-profile')).toBe(first);
    // Another session in another folder outside any repository shares no more of its prompt with
    // the first than sessions of two repositories do: it goes to the best by quota.
    const placed = await turn('loose-2');
    expect(placed.headers.get('x-codex-lab-profile')).toBe(other);
    const state = await pool.service.getState();
    const live = state.sessions.find((session) => session.id === 'loose-2');
    expect(live?.repo).toBeNull();
    expect(routeWhyText(live!.why)).toBe('best by quota');
    // `usage --pool` and the tray name no repository's recent session either.
    expect(state.pool.next.sameRepo).toBeNull();
    const usage = await runCodexLab(['usage', '--pool'], { home: pool.home });
    expect(usage.code, usage.stderr).toBe(0);
    expect(usage.stdout).not.toMatch(/repo|recent session/i);

    await pool.service.stop();
    const json = await runCodexLab(['log', '--session', 'loose-2', '--json'], { home: pool.home });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({
      profile: other,
      route: 'best',
      why: { rule: 'best', pin: null, left: [] },
    });
    const wide = await runCodexLab(['log', '--wide'], { home: pool.home });
    const rows = wide.stdout.split('\n').filter((line) => / loose-\d /.test(line));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).not.toMatch(/repo|recent session/);
  });
});

describe('codex-lab log: the TIME column', () => {
  /** A request line as the router's journal holds it. */
  const request = (id: number, at: number, patch: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'request',
      id,
      at,
      sessionId: `session-${id}`,
      runId: null,
      profile: 'work',
      route: 'active',
      reason: '',
      model: 'gpt-5.5',
      kind: 'responses',
      status: 200,
      ttfbMs: 850,
      durationMs: 1250,
      tokens: null,
      fallback: [],
      ...patch,
    }) + '\n';

  it('shows the date for a request not from today, in the table and with --follow', async () => {
    const home = tempFolder('codex-lab-log-time-');
    await mkdir(join(home, 'state'), { recursive: true, mode: 0o700 });
    const journal = join(home, 'state', 'activity.jsonl');
    const now = Date.now();
    // Three days ago at 01:16:43 UTC (TZ=UTC below), and a refusal recorded then with an ISO reset.
    const old = new Date(now - 3 * 86_400_000);
    old.setUTCHours(1, 16, 43, 0);
    const day = new Intl.DateTimeFormat('en-GB', {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
    })
      .format(old)
      .replace(',', '');
    const oldYear =
      old.getUTCFullYear() === new Date(now).getUTCFullYear() ? '' : ` ${old.getUTCFullYear()}`;
    const refusedReason = `All 2 Codex Lab profiles reached the usage limit. The earliest resets at ${new Date(old.getTime() + 1000 + 2 * 3_600_000 + 10 * 60_000).toISOString()}.`;
    await writeFile(
      journal,
      request(1, old.getTime()) +
        request(2, old.getTime() + 1000, {
          profile: null,
          route: null,
          status: 429,
          reason: refusedReason,
        }) +
        request(3, now),
      { mode: 0o600 },
    );
    const env = { TZ: 'UTC' };
    // Every column and the refusal's whole sentence (a fitted table cuts it with "…").
    const run = await runCodexLab(['log', '--wide'], { home, env });
    expect(run.stderr).toBe('');
    const rows = run.stdout.split('\n');
    expect(rows.find((row) => row.includes('session-1'))).toMatch(
      new RegExp(`^${day}${oldYear} 01:16:43 +session-1 .* 850ms +1\\.2s`),
    );
    // The refusal as Codex was told it, its reset worded as people read times.
    expect(rows.find((row) => row.includes('session-2'))).toMatch(
      new RegExp(`^${day}${oldYear} 01:16:44 .*The earliest resets at 03:26 \\(in 2h 10m\\)\\.$`),
    );
    expect(rows.find((row) => row.includes('session-3'))).toMatch(/^\d{2}:\d{2}:\d{2} +session-3 /);
    // A record from before the router kept its rule says its route, as it always did.
    expect(rows.find((row) => row.includes('session-3'))).toMatch(
      / session-3 +work +active +gpt-5\.5 /,
    );
    const json = await runCodexLab(['log', '--session', 'session-3', '--json'], { home, env });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ route: 'active', why: null });

    const child = spawn(process.execPath, [cliEntry, 'log', '--follow'], {
      env: { ...process.env, CODEX_LAB_HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      await waitFor(() => output.includes('session-3'));
      await appendFile(journal, request(4, old.getTime() + 2000));
      await waitFor(() => output.includes('session-4'));
      expect(output.split('\n').find((line) => line.includes('session-4'))).toMatch(
        new RegExp(`^${day}${oldYear} 01:16:45 +session-4 `),
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for the log');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('codex-lab log after a rename', () => {
  /** The turns `log --profile NAME --json` lists. */
  async function turnsOf(name: string) {
    const run = await runCodexLab(['log', '--profile', name, '--json'], { home: router.home });
    expect(run.code, run.stderr).toBe(0);
    return run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((request) => request.kind === 'responses');
  }

  it('finds a profile’s past requests under its new name, renamed through the router or on the files', async () => {
    // Through the running router (the operation every surface calls): its request log and the
    // journal follow the rename.
    expect(await router.service.renameProfile({ from: 'work', to: 'solo' })).toEqual({
      ok: true,
      value: null,
    });
    await vi.waitFor(
      async () =>
        expect(await turnsOf('solo')).toContainEqual(
          expect.objectContaining({ sessionId: 'session-calm', profile: 'solo' }),
        ),
      { timeout: 5000 },
    );
    // A fallback chain names the account by its new name too.
    expect(await turnsOf('team')).toContainEqual(
      expect.objectContaining({
        sessionId: 'session-moved',
        fallback: [{ profile: 'solo', reason: 'usage_limit_reached' }],
      }),
    );
    const live = await router.service.getState();
    expect(live.requests.filter((request) => request.profile === 'work')).toEqual([]);
    // The totals count the local calendar's day and week: a run that crossed midnight has its
    // turns in no "today", so the check follows where the turns fall.
    const { today, week } = calendarStarts(Date.now());
    const soloTurns = live.requests.filter((request) => request.profile === 'solo');
    expect(soloTurns).not.toEqual([]);
    for (const [period, start] of [
      ['today', today],
      ['week', week],
    ] as const) {
      const keys = live.totals[period].profiles.map((total) => total.key);
      expect(keys).not.toContain('work');
      if (soloTurns.some((request) => Date.parse(request.at) >= start)) {
        expect(keys, period).toContain('solo');
      }
    }

    // With no router running, the command adds the rename to the journal itself.
    await router.service.stop();
    const offline = await runCodexLab(['rename', 'solo', 'alone'], { home: router.home });
    expect(offline.code, offline.stderr).toBe(0);
    expect(await turnsOf('alone')).toContainEqual(
      expect.objectContaining({ sessionId: 'session-calm', profile: 'alone' }),
    );
    // And the next router starts with the requests under the name the profile has now.
    const reborn = createTestLabService(router.fake, router.paths);
    try {
      await reborn.start({ port: 0 });
      const state = await reborn.getState();
      expect(state.requests.some((request) => request.profile === 'alone')).toBe(true);
      expect(state.requests.some((request) => request.profile === 'solo')).toBe(false);
    } finally {
      await reborn.stop();
    }
  });
});

describe('codex-lab codex: the line after a run pinned to a limited profile', () => {
  let pinned: TestRouter;

  beforeAll(async () => {
    pinned = await startTestRouter({
      homePrefix: 'codex-lab-cli-pinned-',
      hosted: true,
      accounts: [{ email: 'work@example.com' }, { email: 'team@example.com' }],
      profiles: [
        ['work@example.com', 'work'],
        ['team@example.com', 'team'],
      ],
    });
  });

  afterAll(() => pinned.close());

  it('names the pinned profile’s limit and the accounts that had quota, not an empty pool', async () => {
    pinned.fake.account('team@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 4000,
    };
    const run = (session: string) =>
      runCodexLab(['codex', '--profile', 'team', '--', 'exec', session], {
        home: pinned.home,
        env: { CODEX_LAB_CODEX_BIN: codexBin, CODEX_LAB_PORT: new URL(pinned.url).port },
      });
    const line =
      /^codex-lab: this run: pinned profile team is limited until \d\d:\d\d, refused once from \d\d:\d\d; work has quota \(run without --profile to let the router choose\)$/;
    // First the upstream's own 429 reaches Codex; then the router, knowing, refuses by itself.
    for (const session of ['pinned-upstream-429', 'pinned-refused']) {
      const result = await run(session);
      // (The second run is warned before Codex starts, too: that line comes first.)
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(line);
    }
    const reasons = (await pinned.service.getRequests({})).map(({ profile, status }) => ({
      profile,
      status,
    }));
    expect(reasons).toEqual([
      { profile: 'team', status: 429 },
      { profile: null, status: 429 },
    ]);
  });
});

describe('codex-lab codex: the line after the router refused a pool where the rest need a sign-in', () => {
  let pool: TestRouter;

  beforeAll(async () => {
    pool = await startTestRouter({
      homePrefix: 'codex-lab-cli-signin-',
      hosted: true,
      accounts: [{ email: 'work@example.com' }, { email: 'team@example.com' }],
      profiles: [
        ['work@example.com', 'work'],
        ['team@example.com', 'team'],
      ],
    });
  });

  afterAll(() => pool.close());

  it('names the limited profile until when and the one that needs a sign-in, not a status code', async () => {
    pool.fake.account('work@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 4000,
    };
    // team's sign-in is spent: its next request is refused upstream and its refresh fails.
    pool.fake.account('team@example.com').failures.push({ kind: 'unauthorized' });
    scriptRefresh(pool.fake, 'team@example.com', 'refresh_token_reused');
    const run = (session: string) =>
      runCodexLab(['codex', '--', 'exec', session], {
        home: pool.home,
        env: { CODEX_LAB_CODEX_BIN: codexBin, CODEX_LAB_PORT: new URL(pool.url).port },
      });
    // The first run learns both states from the upstream; the second the router refuses itself.
    await run('signin-first');
    const result = await run('signin-refused');
    const refusals = (await pool.service.getRequests({})).filter(
      (request) => request.profile === null,
    );
    expect(refusals.at(-1)?.status).toBe(400);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /^codex-lab: this run: refused once from \d\d:\d\d \(no signed-in account had quota left\), work limited until \d\d:\d\d, team needs a sign-in \(codex-lab login team\)$/,
    );
  });
});

describe('codex-lab log: filtered by session or profile', () => {
  const one = '019a5c3e-1111-7000-8000-aaaa87f48ca9';
  const twinA = '019a5c3e-2222-7000-8000-bbbb12345678';
  const twinB = '019a5c3e-3333-7000-8000-cccc12345678';
  const line = (id: number, sessionId: string) =>
    JSON.stringify({
      type: 'request',
      id,
      at: Date.now() - 60_000 + id,
      sessionId,
      runId: null,
      profile: 'work',
      route: 'active',
      reason: '',
      model: 'gpt-5.5',
      kind: 'responses',
      status: 200,
      ttfbMs: 850,
      durationMs: 1250,
      tokens: null,
      fallback: [],
    }) + '\n';

  async function logHome(): Promise<string> {
    const home = tempFolder('codex-lab-log-filter-');
    await mkdir(join(home, 'state'), { recursive: true, mode: 0o700 });
    await writeFile(
      join(home, 'state', 'activity.jsonl'),
      line(1, one) + line(2, twinA) + line(3, twinB),
      {
        mode: 0o600,
      },
    );
    // `idle` is a profile no request went to.
    const createdAt = new Date().toISOString();
    await writeFile(
      join(home, 'auth-profiles.json'),
      JSON.stringify({
        version: 1,
        profiles: [
          { name: 'work', createdAt },
          { name: 'idle', createdAt },
        ],
      }),
      { mode: 0o600 },
    );
    return home;
  }

  it('takes a session id as the table shortens it, its end, or its start', async () => {
    const home = await logHome();
    const table = await runCodexLab(['log'], { home });
    expect(table.stdout).toContain('…87f48ca9');
    for (const typed of ['…87f48ca9', '87f48ca9', '019a5c3e-1111', one]) {
      const run = await runCodexLab(['log', '--session', typed, '--json'], { home });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const rows = run.stdout
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text));
      expect(rows.map((row) => row.sessionId)).toEqual([one]);
    }
  });

  it('says no request matches a session it does not know, naming it, and exits 2', async () => {
    const home = await logHome();
    const run = await runCodexLab(['log', '--session', 'nope'], { home });
    expect(run.code).toBe(2);
    expect(run.stdout).not.toMatch(/No requests yet/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^codex-lab: No request matches session "nope"/);
  });

  it('lists the sessions a shortened id could be, in one sentence, and exits 2', async () => {
    const home = await logHome();
    const run = await runCodexLab(['log', '--session', '12345678'], { home });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(twinA);
    expect(run.stderr).toContain(twinB);
    expect(run.stderr).not.toContain(one);
  });

  it('says a profile no request went to has none, not "No requests yet"', async () => {
    const home = await logHome();
    const run = await runCodexLab(['log', '--profile', 'idle'], { home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/No requests yet/);
    expect(run.stdout).toMatch(/^No requests for profile idle\b/);
  });
});
