/**
 * Audit of issue 3 "pins by session id and by repo from the CLI and the control API": a pin made
 * by `codex-lab pin` (another process, while the router runs) or through `/lab/v1/` changes where
 * the next turn goes, with route `pinned`; unpinning gives the turn back to normal routing. Also
 * both session header spellings land in one session.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabService } from '../../core/service/lab-service.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issuedSecrets } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { postToRouter, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let fake: FakeChatGpt;
let home: string;
let repo: string;
let service: LabService;
let url: string;
let token: string;
let logLines: string[];
let router: TestRouter;

beforeAll(async () => {
  repo = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-pinned-repo-')));
  // A git repository: the folder Codex names in its turn metadata.
  mkdirSync(join(repo, '.git'));
  // beta has less headroom, so an unpinned new session goes to alpha.
  router = await startTestRouter({
    homePrefix: 'codex-lab-pins-',
    accounts: [
      { email: 'alpha@example.com' },
      {
        email: 'beta@example.com',
        primary: {
          usedPercent: 70,
          windowMinutes: 300,
          resetAt: Math.floor(Date.now() / 1000) + 3600,
          unstarted: false,
        },
      },
    ],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
    captureLog: true,
    // Registered as the home's router, so `usage --pool` finds it.
    hosted: true,
  });
  ({ fake, home, service, url, token, logLines } = router);
  // Learn both accounts' quota, so "best" prefers alpha deterministically.
  await service.refreshUsage({ profile: null });
});

afterAll(async () => {
  rmSync(repo, { recursive: true, force: true });
  // Unset when beforeAll failed before the router started (which then removed its own home).
  await router?.close();
});

async function turn(
  session: string,
  options: { workspace?: string; headers?: Record<string, string> } = {},
): Promise<{ profile: string | null; route: string | null; status: number }> {
  const metadata: Record<string, string> = options.workspace
    ? { 'x-codex-turn-metadata': JSON.stringify({ workspaces: { [options.workspace]: {} } }) }
    : {};
  const response = await postToRouter(
    url,
    token,
    '/backend-api/codex/responses',
    { model: 'gpt-5.5', input: [], stream: true, store: false },
    { 'session-id': session, ...metadata, ...options.headers },
  );
  await response.text();
  return {
    status: response.status,
    profile: response.headers.get('x-codex-lab-profile'),
    route: response.headers.get('x-codex-lab-route'),
  };
}

async function control(operation: string, input: unknown): Promise<unknown> {
  const response = await postToRouter(url, token, `/lab/v1/${operation}`, input);
  return response.json();
}

describe('pins reach the router', () => {
  it('an unpinned new session goes to alpha (the baseline the pins must change)', async () => {
    expect(await turn('baseline')).toMatchObject({ status: 200, profile: 'alpha', route: 'best' });
  });

  it('a session pin from the CLI, made while the router runs, routes that session', async () => {
    const pin = await runCodexLab(
      ['pin', 'beta', '--session', '0199aabb-0000-7000-8000-000000000010'],
      { home },
    );
    expect(pin.code, pin.stderr).toBe(0);
    // The CLI pins through the running router's control API, which routes by the pin at once
    // (no wait for the router's once-a-second look at the registry).
    expect(await turn('0199aabb-0000-7000-8000-000000000010')).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    expect((await turn('other-session')).route).not.toBe('pinned');
    expect(
      (await runCodexLab(['unpin', '--session', '0199aabb-0000-7000-8000-000000000010'], { home }))
        .code,
    ).toBe(0);
    // Unpinned: the session may stay where it is (sticky), but it is no longer pinned.
    expect((await turn('0199aabb-0000-7000-8000-000000000010')).route).not.toBe('pinned');
  });

  it('a repo pin from the CLI routes every session whose workspace is that repo', async () => {
    const pin = await runCodexLab(['pin', 'beta', '--repo', '.'], { home, cwd: repo });
    expect(pin.code, pin.stderr).toBe(0);
    expect(await turn('repo-1', { workspace: repo })).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    expect((await turn('repo-2', { workspace: join(tmpdir(), 'elsewhere') })).route).not.toBe(
      'pinned',
    );
    // A repository nested in the folder (its own `.git`), which Codex reports by its own path:
    // the enclosing repository's pin still holds.
    expect(await turn('repo-3', { workspace: join(repo, 'vendor', 'lib') })).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    // A sibling folder that merely shares the prefix is not covered.
    expect((await turn('repo-4', { workspace: `${repo}-other` })).route).not.toBe('pinned');
    expect((await runCodexLab(['unpin', '--repo', '.'], { home, cwd: repo })).code).toBe(0);
  });

  it('a repo pin on a subfolder of a repository is one sentence and nothing is saved; one on a folder of repositories covers them', async () => {
    // Codex names the repository's own folder (the nearest one holding `.git`), from whichever
    // subfolder it runs in: a pin on a subfolder would be listed and never route a turn.
    const subfolder = join(repo, 'packages', 'app');
    mkdirSync(subfolder, { recursive: true });
    const clients = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-clients-')));
    const client = join(clients, 'acme');
    mkdirSync(join(client, '.git'), { recursive: true });
    const registry = join(home, 'auth-profiles.json');
    const before = readFileSync(registry, 'utf8');
    try {
      const inside = await runCodexLab(['pin', 'beta', '--repo', '.'], { home, cwd: subfolder });
      expect(inside.code).toBe(2);
      expect(inside.stderr).toBe(
        `codex-lab: ${subfolder} is inside the git repository ${repo}, and Codex names only the repository: pin ${repo} instead.\n`,
      );
      expect(await control('pinRepo', { path: subfolder, profile: 'beta' })).toMatchObject({
        ok: false,
        code: 'invalid_argument',
      });
      expect(readFileSync(registry, 'utf8')).toBe(before);
      // A folder in no repository holding repositories: every repository in it is pinned.
      expect((await runCodexLab(['pin', 'beta', '--repo', clients], { home })).code).toBe(0);
      expect(await turn('repo-clients', { workspace: client })).toMatchObject({
        profile: 'beta',
        route: 'pinned',
      });
      expect((await runCodexLab(['unpin', '--repo', clients], { home })).code).toBe(0);
      // A folder inside the repository that holds a repository of its own (a dotfiles
      // repository at ~ and ~/work/projA): the pin covers the nested repository, which Codex
      // names by its own path, and `pins` does not call it a pin that never applies.
      const work = join(repo, 'work');
      const nested = join(work, 'projA');
      mkdirSync(join(nested, '.git'), { recursive: true });
      const holding = await runCodexLab(['pin', 'beta', '--repo', work], { home });
      expect(holding.code, holding.stderr).toBe(0);
      expect(await turn('repo-nested', { workspace: nested })).toMatchObject({
        profile: 'beta',
        route: 'pinned',
      });
      const listed = await runCodexLab(['pins'], { home });
      expect(listed.stderr).toBe('');
      expect(listed.stdout).toContain(work);
      expect((await runCodexLab(['unpin', '--repo', work], { home })).code).toBe(0);
      // Unpinning a subfolder (a pin saved before this rule) is still allowed.
      expect((await runCodexLab(['unpin', '--repo', subfolder], { home })).code).toBe(0);
    } finally {
      rmSync(clients, { recursive: true, force: true });
    }
  });

  it('session and repo pins through the control API route too', async () => {
    expect(
      await control('pinSession', {
        sessionId: '0199aabb-0000-7000-8000-000000000011',
        profile: 'beta',
      }),
    ).toEqual({
      ok: true,
      value: { replaced: null },
    });
    expect(await turn('0199aabb-0000-7000-8000-000000000011')).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    // Another client's upper-case spelling of the id is the same session.
    expect(await turn('0199AABB-0000-7000-8000-000000000011')).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    expect(await control('pinRepo', { path: repo, profile: 'beta' })).toEqual({
      ok: true,
      value: { replaced: null },
    });
    expect(await turn('api-repo', { workspace: repo })).toMatchObject({
      profile: 'beta',
      route: 'pinned',
    });
    const unknown = (await control('pinRepo', { path: repo, profile: 'nobody' })) as {
      ok: boolean;
      message: string;
    };
    expect(unknown.ok).toBe(false);
    expect(unknown.message).toContain('nobody');
    await control('pinRepo', { path: repo, profile: null });
    await control('pinSession', {
      sessionId: '0199aabb-0000-7000-8000-000000000011',
      profile: null,
    });
    // No longer pinned (the repo/model bucket may still prefer beta: routing step 4).
    expect((await turn('api-repo-2', { workspace: repo })).route).not.toBe('pinned');
  });

  it('session_id (older Codex) and session-id name the same session', async () => {
    await control('pinSession', {
      sessionId: '0199aabb-0000-7000-8000-000000000012',
      profile: 'beta',
    });
    const underscore = await fetch(`${url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        session_id: '0199aabb-0000-7000-8000-000000000012',
      },
      body: JSON.stringify({ model: 'gpt-5.5', input: [], stream: true }),
    });
    await underscore.text();
    expect(underscore.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(underscore.headers.get('x-codex-lab-route')).toBe('pinned');
    await control('pinSession', {
      sessionId: '0199aabb-0000-7000-8000-000000000012',
      profile: null,
    });
  });

  it('the pin header reads a name as every command does: upper case is the profile, auto is no pin', async () => {
    expect(await turn('header-upper', { headers: { 'x-codex-lab-profile': 'BETA' } })).toEqual({
      status: 200,
      profile: 'beta',
      route: 'pinned',
    });
    for (const auto of ['auto', 'AUTO']) {
      expect(
        await turn(`header-${auto}`, { headers: { 'x-codex-lab-profile': auto } }),
        // Routed as unpinned (the model bucket may prefer the profile of the turn above).
      ).toMatchObject({ status: 200, route: 'best' });
    }
    // A session pin still holds under an `auto` header: auto is "no header pin", nothing more.
    await control('pinSession', {
      sessionId: '0199aabb-0000-7000-8000-000000000013',
      profile: 'beta',
    });
    expect(
      await turn('0199aabb-0000-7000-8000-000000000013', {
        headers: { 'x-codex-lab-profile': 'auto' },
      }),
    ).toMatchObject({ profile: 'beta', route: 'pinned' });
    await control('pinSession', {
      sessionId: '0199aabb-0000-7000-8000-000000000013',
      profile: null,
    });
    const unknown = await turn('header-ghost', { headers: { 'x-codex-lab-profile': 'Ghost' } });
    expect(unknown.status).toBe(400);
  });

  it('wham/usage is answered by the router from the routed account, not passed through', async () => {
    const upstreamUsageCalls = () =>
      fake.requests.filter((request) => request.path.startsWith('/backend-api/wham/usage')).length;
    const before = upstreamUsageCalls();
    const response = await fetch(`${url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${token}`, 'x-codex-lab-profile': 'beta' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('beta');
    const body = (await response.json()) as {
      rate_limit: { primary_window: { used_percent: number } | null };
    };
    // beta started at 70% and the fake charged it for the turns above; the router knows from the
    // x-codex-* headers of those turns.
    const upstream = fake.account('beta@example.com').primary!.usedPercent;
    expect(Math.abs(body.rate_limit.primary_window!.used_percent - upstream)).toBeLessThanOrEqual(
      1,
    ); // the headers precede the fake's charge for that turn
    expect(body.rate_limit.primary_window?.used_percent).toBeGreaterThan(70);
    expect(upstreamUsageCalls()).toBe(before);
  });

  it('the pool says where a new session in the repo just used goes, and a new session there goes there', async () => {
    const workspace = join(tmpdir(), 'codex-lab-bucket-repo');
    expect(
      await turn('bucket-first', { workspace, headers: { 'x-codex-lab-profile': 'beta' } }),
    ).toMatchObject({ profile: 'beta', route: 'pinned' });
    const { pool } = await service.getState();
    expect(pool.next.profile).toBe('alpha');
    expect(pool.next.sameRepo).toMatchObject({ repo: workspace, profile: 'beta' });
    // The CLI asks the running router for its summary: the same line.
    const printed = await runCodexLab(['usage', '--pool'], { home });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout, printed.stderr).toContain(
      'New sessions in codex-lab-bucket-repo (gpt-5.5) → beta: same repo and model as a recent session',
    );
    // What the summary promised is what the router does.
    expect(await turn('bucket-second', { workspace })).toMatchObject({ profile: 'beta' });
    expect(await turn('bucket-elsewhere', { workspace: join(tmpdir(), 'another') })).toMatchObject({
      profile: 'alpha',
    });
  });

  it('logs hold no token', () => {
    const all = logLines.join('');
    expect(all).not.toContain(token);
    for (const secret of issuedSecrets(fake)) expect(all).not.toContain(secret);
  });
});
