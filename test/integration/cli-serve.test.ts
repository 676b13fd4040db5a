/**
 * `codex-lab serve`, `token`, `usage` and `list` as child processes against the fake ChatGPT:
 * the listening URL, the bearer check, router.json, a clean SIGTERM shutdown, and the token never
 * leaking into serve's output.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { enableResponsesWebSocket } from '../fakes/fake-responses-websocket.ts';
import { cliEntry, makeTempHome, repoRoot, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

/** util-linux's `script`, which runs a command on a pseudo-terminal, when installed. */
const scriptBinary = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));

let fake: FakeChatGpt;
let home: string;
let seeded: SeededProfile[];
const children: ServeChild[] = [];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  const now = fake.nowSeconds();
  fake.addAccount({
    email: 'alpha@example.com',
    primary: { usedPercent: 37, windowMinutes: 300, resetAt: now + 7200, unstarted: false },
    secondary: {
      usedPercent: 61,
      windowMinutes: 10080,
      resetAt: now + 3 * 86400,
      unstarted: false,
    },
  });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-serve-');
  seeded = await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('codex-lab serve', () => {
  it('stops cleanly on SIGTERM after a lock and an atomic write were first used while serving', async () => {
    // write-file-atomic loads on first use and registers signal-exit handlers,
    // which re-raise a signal when they see no other listener: serve must keep its own.
    // The token exists before serve starts, so serve's start-up writes nothing.
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const serve = await startServe(home, env());
    children.push(serve);
    const answer = await fetch(`${serve.url}/lab/v1/setActive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'beta' }),
    });
    expect(await answer.json()).toEqual({ ok: true, value: null });
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    await expect(stat(join(home, 'state', 'router.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('prints its URL, checks the token, records router.json and stops cleanly on SIGTERM', async () => {
    const serve = await startServe(home, env());
    children.push(serve);
    const port = Number(new URL(serve.url).port);
    expect(port).toBeGreaterThan(0);

    const token = await runCodexLab(['token'], { home });
    expect(token.code).toBe(0);
    const bearer = token.stdout.trim();
    expect(bearer.length).toBeGreaterThan(20);

    const anonymous = await fetch(`${serve.url}/lab/v1/state`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${serve.url}/lab/v1/state`, {
      headers: { authorization: 'Bearer not-the-token' },
    });
    expect(wrong.status).toBe(401);
    const state = await fetch(`${serve.url}/lab/v1/state`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(state.status).toBe(200);
    const body = (await state.json()) as {
      profiles: Array<{ name: string }>;
      router: { port: number; running: boolean };
      codexConfig: string;
    };
    expect(body.profiles.map((profile) => profile.name)).toEqual(['alpha', 'beta']);
    expect(body.router).toMatchObject({ port, running: true });
    expect(body.codexConfig).toContain(`base_url = "http://127.0.0.1:${port}/backend-api/codex"`);
    expect(body.codexConfig).not.toContain(bearer);

    const infoPath = join(home, 'state', 'router.json');
    expect(JSON.parse(await readFile(infoPath, 'utf8'))).toEqual({
      port,
      pid: serve.child.pid,
      host: 'serve',
      address: '127.0.0.1',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect((await stat(infoPath)).mode & 0o777).toBe(0o600);

    // codex-config finds the --port 0 router through router.json; CODEX_LAB_PORT still wins.
    const config = await runCodexLab(['codex-config'], { home });
    expect(config.stdout).toContain(`http://127.0.0.1:${port}/backend-api/codex`);
    const pinned = await runCodexLab(['codex-config'], { home, env: { CODEX_LAB_PORT: '4567' } });
    expect(pinned.stdout).toContain('http://127.0.0.1:4567/backend-api/codex');

    serve.child.kill('SIGTERM');
    const exit = await serve.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    await expect(stat(infoPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(serve.output()).toMatch(/stopped/);
    expect(serve.output()).not.toContain(bearer);
    for (const profile of seeded) {
      expect(serve.output()).not.toContain(profile.accessToken);
      expect(serve.output()).not.toContain(profile.refreshToken);
    }
    // With the router gone, a stale or missing router.json falls back to 1456.
    const after = await runCodexLab(['codex-config'], { home });
    expect(after.stdout).toContain('http://127.0.0.1:1456/backend-api/codex');
  });

  it('keeps serving when whatever read its output goes away, and stops cleanly', async () => {
    // `codex-lab serve | head -1`: the reader leaves after the first line, both streams close.
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const serve = await startServe(home, { ...env(), CODEX_LAB_LOG_LEVEL: 'debug' });
    children.push(serve);
    serve.child.stdout!.destroy();
    serve.child.stderr!.destroy();
    const answer = await postTurn(serve, bearer, 'closed-pipe-session');
    expect(answer.status).toBe(200);
    await answer.text();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    await expect(stat(join(home, 'state', 'router.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('names an upstream transport switched off, and says nothing of the defaults', async () => {
    const plain = await startServe(home, {
      ...env(),
      CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
      CODEX_LAB_UPSTREAM_ZSTD: 'off',
    });
    children.push(plain);
    // The dashboard line comes after them: once it is out, everything before it is.
    await vi.waitFor(() => expect(plain.output()).toContain('Dashboard:'));
    expect(plain.output()).toContain(
      'Upstream turns go over HTTP in full, not over WebSocket (CODEX_LAB_UPSTREAM_WEBSOCKET=off)',
    );
    expect(plain.output()).toContain(
      'Upstream request bodies go uncompressed (CODEX_LAB_UPSTREAM_ZSTD=off)',
    );
    plain.child.kill('SIGTERM');
    await plain.exited;
    const defaults = await startServe(home, env());
    children.push(defaults);
    await vi.waitFor(() => expect(defaults.output()).toContain('Dashboard:'));
    expect(defaults.output()).not.toContain('CODEX_LAB_UPSTREAM');
  });

  // `ws` masks every frame a client sends; in JavaScript that is a byte loop (~0.4 ms for a
  // 300 KB first turn). The bundled CLI must load bufferutil's native code from node_modules,
  // not bundle it (bundled, it finds no compiled file beside the bundle and falls back).
  it.runIf(process.platform === 'linux')(
    'masks its upstream WebSocket frames with the native bufferutil addon',
    async () => {
      const side = enableResponsesWebSocket(fake);
      const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
      const serve = await startServe(home, { ...env(), CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' });
      children.push(serve);
      const answer = await postTurn(serve, bearer, 'bufferutil-session');
      expect(answer.status).toBe(200);
      await answer.text();
      expect(side.turns).toHaveLength(1);
      const maps = await readFile(`/proc/${serve.child.pid}/maps`, 'utf8');
      expect(maps).toMatch(/node_modules\/bufferutil\/prebuilds\/[^\n]*\.node/);
    },
  );

  // The tester's repro (`script -qc "codex-lab serve" /dev/null`): stdout and stderr a real
  // pseudo-terminal. util-linux's `script` makes one; elsewhere `dashboardLine`'s unit test stands.
  it.runIf(process.platform === 'linux' && scriptBinary !== undefined)(
    'on a terminal, names the dashboard without the router token unless asked',
    async () => {
      const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
      const childEnv: NodeJS.ProcessEnv = {};
      for (const [key, value] of Object.entries(process.env)) {
        if (!key.startsWith('CODEX_LAB_')) childEnv[key] = value;
      }
      // A built dashboard of its own: the line names one whatever dist/ holds now.
      const built = join(home, 'built-dashboard');
      await mkdir(built);
      await writeFile(join(built, 'index.html'), '<!doctype html><title>ui</title>');
      Object.assign(childEnv, { CODEX_LAB_HOME: home, CODEX_LAB_DASHBOARD_DIR: built, ...env() });
      const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
      const command = `${quote(process.execPath)} ${quote(cliEntry)} serve --port 0`;
      const terminal = spawn(scriptBinary!, ['-qfec', command, '/dev/null'], {
        cwd: repoRoot,
        env: childEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      terminal.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) =>
        terminal.on('close', (code) => resolve(code)),
      );
      try {
        await vi.waitFor(() => expect(output).toContain('Dashboard:'), { timeout: 30_000 });
        expect(output).toMatch(
          /Dashboard: http:\/\/127\.0\.0\.1:\d+\/ui\/ \(codex-lab dashboard opens it with the token\)/,
        );
        expect(output).not.toContain(bearer);
        expect(output).not.toContain('#token=');
        expect((await runCodexLab(['stop'], { home })).code).toBe(0);
        expect(await exited).toBe(0);
      } finally {
        if (terminal.exitCode === null) terminal.kill('SIGKILL');
      }
    },
  );

  it('ignores a router.json whose process is gone', async () => {
    await runCodexLab(['token'], { home });
    await writeFile(
      join(home, 'state', 'router.json'),
      JSON.stringify({ port: 5999, pid: 2 ** 22 + 12345 }),
      { mode: 0o600 },
    );
    const config = await runCodexLab(['codex-config'], { home });
    expect(config.code).toBe(0);
    expect(config.stdout).toContain('http://127.0.0.1:1456/backend-api/codex');
  });
});

describe('codex-lab token', () => {
  it('prints the same token twice from a 0600 file', async () => {
    const first = await runCodexLab(['token'], { home });
    const second = await runCodexLab(['token'], { home });
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(first.stdout.trim()).toMatch(/^\S{20,}$/);
    expect(second.stdout).toBe(first.stdout);
    expect((await stat(join(home, 'state', 'router-token'))).mode & 0o777).toBe(0o600);
  });
});

describe('codex-lab usage', () => {
  it('--refresh through a freshly started serve shows the status of the state its numbers come from', async () => {
    const serve = await startServe(home, env());
    children.push(serve);
    const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const views = JSON.parse(run.stdout) as Array<{
      name: string;
      status: string;
      quota: { updatedAt: string | null };
    }>;
    // Both accounts were read just now, so both are known to work: never "not checked yet".
    expect(views.map((view) => [view.name, view.status])).toEqual([
      ['alpha', 'ok'],
      ['beta', 'ok'],
    ]);
    for (const view of views) expect(view.quota.updatedAt).not.toBeNull();
    const human = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(human.code).toBe(0);
    expect(human.stdout).not.toContain('not checked yet');
  });

  it('--refresh --json returns both windows with the fake upstream numbers', async () => {
    const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const views = JSON.parse(run.stdout) as Array<{
      name: string;
      quota: {
        primary: { usedPercent: number; windowMinutes: number; resetsAt: string } | null;
        secondary: { usedPercent: number; windowMinutes: number; resetsAt: string } | null;
      };
    }>;
    const alpha = views.find((view) => view.name === 'alpha')!;
    const account = fake.account('alpha@example.com');
    expect(alpha.quota.primary).toMatchObject({ usedPercent: 37, windowMinutes: 300 });
    expect(alpha.quota.secondary).toMatchObject({ usedPercent: 61, windowMinutes: 10080 });
    expect(Date.parse(alpha.quota.primary!.resetsAt)).toBe(account.primary!.resetAt * 1000);
    expect(Date.parse(alpha.quota.secondary!.resetsAt)).toBe(account.secondary!.resetAt * 1000);
    expect(views.find((view) => view.name === 'beta')!.quota.secondary).toMatchObject({
      usedPercent: 20,
    });
    for (const profile of seeded) expect(run.stdout).not.toContain(profile.accessToken);
  });

  it('--refresh --json carries the fake’s reset credits; absent (not zero) for an account without', async () => {
    const now = fake.nowSeconds();
    fake.account('alpha@example.com').resetCredits = [
      {
        id: 'rc-1',
        resetType: 'codex_rate_limits',
        status: 'available',
        grantedAt: now - 86400,
        expiresAt: now + 6 * 86400,
        title: 'Full reset (Weekly + 5 hr)',
      },
      {
        id: 'rc-2',
        resetType: 'codex_rate_limits',
        status: 'redeemed',
        grantedAt: now - 86400,
        expiresAt: now + 86400,
        title: null,
      },
    ];
    fake.account('beta@example.com').resetCredits = 'not_found';
    const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env: env() });
    expect(run.code).toBe(0);
    const views = JSON.parse(run.stdout) as Array<Record<string, unknown> & { name: string }>;
    const alpha = views.find((view) => view.name === 'alpha')!;
    const beta = views.find((view) => view.name === 'beta')!;
    expect(alpha.resetCredits).toEqual({
      available: 1,
      nextExpiresAt: new Date((now + 6 * 86400) * 1000).toISOString(),
    });
    expect('resetCredits' in beta).toBe(false);
    // Kept in the state files: a plain `usage` (no refresh) says the same.
    const again = JSON.parse((await runCodexLab(['usage', '--json'], { home })).stdout) as Array<
      Record<string, unknown> & { name: string }
    >;
    expect(again.find((view) => view.name === 'alpha')!.resetCredits).toEqual(alpha.resetCredits);
    const human = await runCodexLab(['usage'], { home });
    expect(human.stdout).toMatch(/alpha: reset credits 1 available · next expires \w{3} \d\d:\d\d/);
    expect(human.stdout).not.toMatch(/beta: reset credits/);
  });

  it('--refresh prints the fresh numbers in the table and marks a working profile ok', async () => {
    const run = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(run.code, run.stderr).toBe(0);
    const alphaRow = run.stdout.split('\n').find((line) => line.startsWith('alpha'))!;
    expect(alphaRow).toMatch(
      /^alpha\s+ready\s+63% left, resets in .*39% left, resets in .*just now$/,
    );
    // The snapshots were saved before the command exited: a later list shows them.
    const list = await runCodexLab(['list', '--json'], { home });
    expect(JSON.parse(list.stdout)[0].quota.secondary.usedPercent).toBe(61);
  });

  it.each([
    ['with serve running', true],
    ['with no router', false],
  ])(
    '--refresh %s shows the fresh numbers over a corrupt quota.json, names it, leaves it, exits 1',
    async (_label, serving) => {
      if (serving) children.push(await startServe(home, env()));
      const quotaPath = join(home, 'state', 'quota.json');
      await mkdir(join(home, 'state'), { recursive: true });
      await writeFile(quotaPath, '{"version":1,"profiles":');
      for (const json of [true, false]) {
        const run = await runCodexLab(['usage', '--refresh', ...(json ? ['--json'] : [])], {
          home,
          env: env(),
        });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(quotaPath);
        expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
        if (json) {
          const views = JSON.parse(run.stdout) as Array<{
            name: string;
            quota: { primary: { usedPercent: number } | null };
          }>;
          expect(views.find((view) => view.name === 'alpha')!.quota.primary).toMatchObject({
            usedPercent: 37,
          });
        } else {
          expect(run.stdout).toMatch(/^alpha\s+ready\s+63% left, resets in .*39% left/m);
        }
      }
      // Never overwritten: the user decides what to do with it.
      expect(await readFile(quotaPath, 'utf8')).toBe('{"version":1,"profiles":');
    },
  );

  it('about one profile, reports only that profile’s problems; about all, every one', async () => {
    expect((await runCodexLab(['usage', '--refresh'], { home, env: env() })).code).toBe(0);
    const betaAuth = join(home, 'auth-profiles', 'beta', 'auth.json');
    await writeFile(betaAuth, '{}');
    for (const args of [
      ['usage', 'alpha'],
      ['usage', 'ALPHA', '--json'],
    ]) {
      const run = await runCodexLab(args, { home });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/alpha/);
      expect(run.stdout).not.toMatch(/beta/);
    }
    for (const args of [['usage'], ['usage', '--json'], ['list'], ['usage', 'beta']]) {
      const run = await runCodexLab(args, { home });
      expect(run.code, args.join(' ')).toBe(1);
      // The command line says its own fix: the command (the dashboard points at its button).
      expect(run.stderr).toContain(`${betaAuth} holds no tokens: run codex-lab login beta.`);
    }
  });

  it('--refresh with the upstream down names every profile in one line, still shows the table, exits 1', async () => {
    expect((await runCodexLab(['usage', '--refresh'], { home, env: env() })).code).toBe(0);
    await fake.close();
    const run = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(run.code).toBe(1);
    const errors = run.stderr.trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /Could not refresh the quota\. alpha, beta: Could not reach the usage endpoint/,
    );
    expect(errors[0]).toMatch(/check the network connection/);
    // What was known before is still shown.
    expect(run.stdout).toMatch(/^alpha\s+ready\s+63% left/m);
    fake = await startFakeChatGpt();
  });

  it('names an unknown profile clearly and exits 2', async () => {
    for (const args of [
      ['usage', 'ghost'],
      ['usage', 'ghost', '--refresh'],
    ]) {
      const run = await runCodexLab(args, { home, env: env() });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/ghost/);
    }
  });
});
