/**
 * One router per home and how clients find it (docs/design.md section 8): a second `serve` says where
 * the first runs and exits 1 without touching it; `status`, `dashboard --print` and `stop` act on
 * the running one; a `state/router.json` naming something that is not our router is reported,
 * the CLI falls back to the files, and the router token never reaches that process.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityPath, identityProof } from '../../core/service/identity.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';
import { routerUnavailableToken } from '../../core/cli/commands/token.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];
const servers: Server[] = [];

/** What a command printed, as one line: `status` wraps its sentences to 100 columns in a pipe. */
function oneLine(stdout: string): string {
  return stdout.trim().replace(/\n/g, ' ');
}

/** A routers' env; its dashboard is a built one (a page of its own), whatever dist/ holds now. */
function env(): Record<string, string> {
  return {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_DASHBOARD_DIR: join(home, 'built-dashboard'),
  };
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-lifecycle-');
  await mkdir(join(home, 'built-dashboard'));
  await writeFile(join(home, 'built-dashboard', 'index.html'), '<!doctype html><title>ui</title>');
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  await stopServes(children);
  for (const server of servers.splice(0)) server.close();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('one router per home', () => {
  it('a second serve names the first and exits 1; status, dashboard --print and stop act on the first', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const second = await runCodexLab(['serve', '--port', '0'], { home, env: env() });
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `codex-lab: A Codex Lab router already runs for this home on ${first.url} (codex-lab serve, pid ${first.child.pid}): use it, or stop it with codex-lab stop.`,
    );
    const info = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(info.pid).toBe(first.child.pid);

    const status = await runCodexLab(['status'], { home });
    expect(status.code).toBe(0);
    expect(oneLine(status.stdout)).toMatch(
      new RegExp(
        `^Codex Lab router running on ${first.url.replaceAll('.', '\\.')} \\(codex-lab serve, pid ${first.child.pid}, up .+, version \\d+\\.\\d+\\.\\d+\\)\\. Profiles: 2 \\(alpha, beta\\); active: auto\\.$`,
      ),
    );

    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const link = await runCodexLab(['dashboard', '--print'], { home });
    expect(link.stdout.trim()).toBe(`${first.url}/ui/#token=${token}`);

    const stopped = await runCodexLab(['stop'], { home });
    expect(stopped.stdout.trim()).toBe(
      `Stopped the Codex Lab router on ${first.url} (pid ${first.child.pid}).`,
    );
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const after = await runCodexLab(['status'], { home });
    expect(after.code).toBe(1);
    expect(after.stdout.trim()).toBe(`No Codex Lab router is running for ${home}.`);
    const noDashboard = await runCodexLab(['dashboard', '--print'], { home });
    expect(noDashboard.code).toBe(1);
    expect(noDashboard.stderr).toMatch(/^codex-lab: No Codex Lab router is running for /);
  });

  it('dashboard with no browser to open it: prints the link, says so in one sentence and exits 1', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const headless = join(home, 'headless-bin');
    await mkdir(headless);
    // xdg-open on a machine without a browser or display: it starts, then exits 3.
    await writeFile(join(headless, 'xdg-open'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const empty = join(home, 'empty-bin');
    await mkdir(empty);
    for (const path of [headless, empty]) {
      const run = await runCodexLab(['dashboard'], { home, env: { PATH: path } });
      expect(run.stdout).toBe(`${first.url}/ui/#token=${token}\n`);
      expect(run.stderr.trim()).toBe(
        'codex-lab: Could not open a browser on this machine: open the dashboard link above yourself (codex-lab dashboard --print prints it).',
      );
      expect(run.code).toBe(1);
    }
  });

  it('a router without a built dashboard says so at start, to dashboard --print and at /ui/, never with a dead link', async () => {
    const notBuilt = join(home, 'dashboard-not-built');
    await mkdir(notBuilt);
    const first = await startServe(home, { ...env(), CODEX_LAB_DASHBOARD_DIR: notBuilt });
    children.push(first);
    const sentence = 'The dashboard is not built: run npm run build:renderer.';
    await expect.poll(() => first.output()).toContain('Dashboard: not built');
    expect(first.output()).toContain('Dashboard: not built (npm run build:renderer builds it)');
    expect(first.output()).not.toContain('/ui/');
    const link = await runCodexLab(['dashboard', '--print'], { home });
    expect(link.stdout).toBe('');
    expect(link.stderr.trim()).toBe(`codex-lab: ${sentence}`);
    expect(link.code).toBe(1);
    const page = await fetch(`${first.url}/ui/`);
    expect(page.status).toBe(404);
    expect((await page.text()).trim()).toBe(sentence);
    // Built while it runs: the next look finds it, without a restart.
    await writeFile(join(notBuilt, 'index.html'), '<!doctype html><title>ui</title>');
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const now = await runCodexLab(['dashboard', '--print'], { home });
    expect(now.stdout.trim()).toBe(`${first.url}/ui/#token=${token}`);
    expect((await fetch(`${first.url}/ui/`)).status).toBe(200);
  });

  it('a router listening on ::1: router.json records it, and status, dashboard, token --ensure-router, stop and a second serve find it there', async () => {
    const first = await startServe(home, env(), ['--host', '::1']);
    children.push(first);
    const port = Number(new URL(first.url).port);
    expect(first.url).toBe(`http://[::1]:${port}`);
    const info = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(info).toMatchObject({ port, pid: first.child.pid, address: '::1' });

    const status = await runCodexLab(['status'], { home, env: { CODEX_LAB_PORT: String(port) } });
    expect(status.stdout).toContain(`Codex Lab router running on ${first.url} (codex-lab serve`);
    expect(status.code).toBe(0);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const link = await runCodexLab(['dashboard', '--print'], { home });
    expect(link.stdout.trim()).toBe(`${first.url}/ui/#token=${token}`);
    const ensured = await runCodexLab(['token', '--ensure-router'], {
      home,
      env: { ...env(), CODEX_LAB_PORT: String(port) },
    });
    expect(ensured.stderr).toBe('');
    expect(ensured.stdout.trim()).toBe(token);
    const second = await runCodexLab(['serve', '--host', '::1', '--port', '0'], {
      home,
      env: env(),
    });
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `codex-lab: A Codex Lab router already runs for this home on ${first.url} (codex-lab serve, pid ${first.child.pid}): use it, or stop it with codex-lab stop.`,
    );

    // The config block points Codex at ::1, with CODEX_LAB_PORT set too, and its token command
    // starts a router there once this one is gone (it started one on 127.0.0.1, where nothing
    // of Codex's config pointed).
    const block = await runCodexLab(['codex-config'], {
      home,
      env: { CODEX_LAB_PORT: String(port) },
    });
    expect(block.stdout).toContain(`base_url = "${first.url}/backend-api/codex"`);
    const auth =
      /^auth = \{ command = (".*"), args = (\[.*\]), timeout_ms = \d+, refresh_interval_ms = \d+ \}$/m.exec(
        block.stdout,
      );
    const args = JSON.parse(auth![2]!) as string[];
    expect(args.slice(-2)).toEqual(['--host', '::1']);

    const stopped = await runCodexLab(['stop'], { home });
    expect(stopped.stdout.trim()).toBe(
      `Stopped the Codex Lab router on ${first.url} (pid ${first.child.pid}).`,
    );
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const restarted = spawnSync(JSON.parse(auth![1]!) as string, args, {
      env: { ...process.env, ...env(), HOME: join(home, 'elsewhere') },
      encoding: 'utf8',
    });
    expect(restarted.stdout.trim(), restarted.stderr).toBe(token);
    const again = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(again).toMatchObject({ port, address: '::1' });
    expect((await runCodexLab(['stop'], { home })).code).toBe(0);
  });

  it('a deleted or damaged router.json: a second serve is still refused, and the running router writes the file again', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const infoPath = join(home, 'state', 'router.json');
    const original = JSON.parse(await readFile(infoPath, 'utf8'));
    for (const damage of [
      () => rm(infoPath),
      () => writeFile(infoPath, 'garbage', { mode: 0o600 }),
    ]) {
      // Paused meanwhile: the running router puts the record back within moments, and a second
      // serve slower than that (a loaded machine) would find it whole again.
      first.child.kill('SIGSTOP');
      await damage();
      const second = await runCodexLab(['serve', '--port', '0'], { home, env: env() }).finally(() =>
        first.child.kill('SIGCONT'),
      );
      expect(second.code).toBe(1);
      expect(second.stderr.trim()).toMatch(
        new RegExp(
          `^codex-lab: A Codex Lab router \\(pid ${first.child.pid}\\) is running for this home, but state/router\\.json cannot be read: .*; move away what is in that file's place \\(the router then writes it again\\), or end process ${first.child.pid}\\.$`,
        ),
      );
      // The refused router never wrote over the record, and the first one puts it back.
      const deadline = Date.now() + 10_000;
      let restored: unknown = null;
      while (Date.now() < deadline) {
        restored = await readFile(infoPath, 'utf8')
          .then((text) => JSON.parse(text) as unknown)
          .catch(() => null);
        if (restored !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(restored).toEqual(original);
      const status = await runCodexLab(['status'], { home });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`pid ${first.child.pid}`);
    }
    const stopped = await runCodexLab(['stop'], { home });
    expect(stopped.code).toBe(0);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // Its run lock went with it: the next router starts.
    const next = await startServe(home, env());
    children.push(next);
    expect(JSON.parse(await readFile(infoPath, 'utf8')).pid).toBe(next.child.pid);
  });

  it('a router.json the running router cannot replace (a folder): clients name the router and the file, start none, and the router reports it', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const infoPath = join(home, 'state', 'router.json');
    await rm(infoPath);
    await mkdir(infoPath, { mode: 0o700 });
    const sentence = `A Codex Lab router (pid ${first.child.pid}) is running for this home, but state/router.json cannot be read: ${infoPath} is a folder, not a file`;

    const advice = `move away what is in that file's place (the router then writes it again), or end process ${first.child.pid}`;
    const status = await runCodexLab(['status'], { home });
    expect(oneLine(status.stdout)).toBe(`${sentence}; ${advice}.`);
    expect(status.code).toBe(1);
    const json = await runCodexLab(['status', '--json'], { home });
    expect(JSON.parse(json.stdout)).toEqual({
      running: true,
      home,
      pid: first.child.pid,
      problem: sentence,
    });
    const dashboard = await runCodexLab(['dashboard', '--print'], { home });
    expect(dashboard.code).toBe(1);
    expect(dashboard.stderr.trim()).toBe(`codex-lab: ${sentence}; ${advice}.`);
    const stop = await runCodexLab(['stop'], { home });
    expect(stop.code).toBe(1);
    expect(stop.stderr.trim()).toBe(
      `codex-lab: ${sentence}, so it cannot be asked to stop: ${advice}.`,
    );
    const ensured = await runCodexLab(['token', '--ensure-router'], {
      home,
      env: { ...env(), CODEX_LAB_PORT: '0' },
    });
    // Codex is handed a placeholder, not the token it would keep sending to that port.
    expect(ensured.code).toBe(0);
    expect(ensured.stdout.trim()).toBe(routerUnavailableToken);
    expect(ensured.stderr.trim()).toBe(`codex-lab: ${sentence}; ${advice}, and try again.`);
    // No second router was started: nothing else ever held the home.
    expect(await readFile(join(home, 'state', 'router.log'), 'utf8').catch(() => '')).toBe('');

    // The router says so in its log and in its state's problems.
    const state = (await (
      await fetch(`${first.url}/lab/v1/state`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { problems: Array<{ code: string; message: string }> };
    expect(state.problems).toContainEqual({
      code: 'corrupt_file',
      message: `${infoPath} is a folder, not a file, so clients cannot find this router: move that folder away (the router then writes the file again).`,
    });
    expect(first.output()).toContain(`${infoPath} is a folder, not a file, so clients cannot find`);

    // Moved away: the router writes its record again and every client finds it.
    await rm(infoPath, { recursive: true });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await readFile(infoPath, 'utf8').catch(() => null)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const again = await runCodexLab(['status'], { home });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`pid ${first.child.pid}`);
  });

  it('a router stopped with Ctrl-Z: every client names it as running but not answering, none starts another or calls it gone', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const pid = first.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const sentence = `A Codex Lab router (pid ${pid}) is running for this home on ${first.url}, but it does not answer`;
      const advice = `if it was stopped (Ctrl-Z), resume it (fg, or kill -CONT ${pid}); otherwise end process ${pid}`;
      const status = await runCodexLab(['status'], { home });
      expect(status.code).toBe(1);
      expect(oneLine(status.stdout)).toBe(`${sentence}; ${advice}.`);
      const stop = await runCodexLab(['stop'], { home });
      expect(stop.code).toBe(1);
      expect(stop.stderr.trim()).toBe(
        `codex-lab: ${sentence}, so it cannot be asked to stop: ${advice}.`,
      );
      const asked = Date.now();
      const ensured = await runCodexLab(['token', '--ensure-router'], {
        home,
        env: { ...env(), CODEX_LAB_PORT: '0' },
      });
      expect(ensured.code).toBe(0);
      expect(ensured.stdout.trim()).toBe(routerUnavailableToken);
      expect(ensured.stderr.trim()).toBe(`codex-lab: ${sentence}; ${advice}, and try again.`);
      // Within the 5 s Codex gives its token command (it took 8.7 s), so Codex shows this
      // sentence instead of a timeout.
      expect(Date.now() - asked).toBeLessThan(4500);
      // No second router was started for the home.
      expect(await readFile(join(home, 'state', 'router.log'), 'utf8').catch(() => '')).toBe('');
      const second = await runCodexLab(['serve', '--port', '0'], { home, env: env() });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`${sentence}; ${advice}.`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const again = await runCodexLab(['status'], { home });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`pid ${pid}`);
  });

  it('a router that proves who it is but never answers for its state: status says so in one sentence, no stack trace', async () => {
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    // Answers its identity (it holds the token), then stalls on every other request (or, later,
    // answers its state with something that is not one).
    let garbled = false;
    const stalled = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== identityPath) {
        if (garbled) response.end('<html>not a state</html>');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          app: 'codex-lab',
          version: '0.1.0',
          pid: process.pid,
          port,
          startedAt: new Date().toISOString(),
          home,
          host: 'serve',
          proof: identityProof(token, url.searchParams.get('nonce') ?? ''),
        }),
      );
    });
    servers.push(stalled);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const port = (stalled.address() as { port: number }).port;
    await writeFile(
      join(home, 'state', 'router.json'),
      JSON.stringify({ port, pid: process.pid, host: 'serve' }),
      { mode: 0o600 },
    );
    const url = `http://127.0.0.1:${port}`;
    const status = await runCodexLab(['status'], { home });
    expect(status.code).toBe(1);
    expect(status.stderr).toBe('');
    expect(oneLine(status.stdout)).toBe(
      `A Codex Lab router (pid ${process.pid}) is running for this home on ${url}, but it does not answer; if it was stopped (Ctrl-Z), resume it (fg, or kill -CONT ${process.pid}); otherwise end process ${process.pid}.`,
    );
    const json = await runCodexLab(['status', '--json'], { home });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ running: true, pid: process.pid });
    stalled.closeAllConnections();

    garbled = true;
    const garbledStatus = await runCodexLab(['status'], { home });
    expect(garbledStatus.code).toBe(1);
    expect(garbledStatus.stderr).toBe('');
    expect(garbledStatus.stdout).toContain(`A Codex Lab router (pid ${process.pid})`);
  });

  it('a damaged router.json: status names the running router and the file at once', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const infoPath = join(home, 'state', 'router.json');
    // Damaged just after the router's check put a deleted file back, so its next check (2 s on)
    // comes after status has read the file.
    await rm(infoPath);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await readFile(infoPath, 'utf8').catch(() => null)) === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await writeFile(infoPath, '{"port":', { mode: 0o600 });
    const status = await runCodexLab(['status'], { home });
    if (status.code === 1) {
      expect(oneLine(status.stdout)).toBe(
        `A Codex Lab router (pid ${first.child.pid}) is running for this home, but state/router.json cannot be read: ${infoPath} is not valid JSON; move away what is in that file's place (the router then writes it again), or end process ${first.child.pid}.`,
      );
    } else {
      // The router's 2-second check won the race and wrote the file back first.
      expect(status.stdout).toContain(`pid ${first.child.pid}`);
    }
    expect(status.stdout).not.toContain('No Codex Lab router is running');
  });

  it('a deleted router.json: token --ensure-router waits for the running router to write it again, and starts none', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    await rm(join(home, 'state', 'router.json'));
    // The serve it starts is refused (the first holds the home); the first is found once it
    // writes its record again.
    const ensured = await runCodexLab(['token', '--ensure-router'], {
      home,
      env: { ...env(), CODEX_LAB_PORT: '0' },
    });
    expect(ensured.stderr).toBe('');
    expect(ensured.code).toBe(0);
    expect(ensured.stdout.trim()).toBe(token);
    expect(JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8')).pid).toBe(
      first.child.pid,
    );
  });

  it('a registry that stops parsing while the router runs: status names the file, and turns are served with the last good copy', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const registryPath = join(home, 'auth-profiles.json');
    await writeFile(registryPath, '{"version":1,"profiles":[{"name":');
    const status = await runCodexLab(['status'], { home });
    expect(status.code).toBe(0);
    // The router still routes with the copy it read before: status shows it and says so.
    expect(status.stderr.trim()).toBe(
      `codex-lab: ${registryPath} is not valid JSON. It was left untouched: fix or move it, then try again. Until then the router routes with the last good copy it read (alpha, beta).`,
    );
    // As it says: the profiles' tokens are where that copy says (every turn was refused before,
    // naming the file, while the state said routing went on).
    const answer = await postTurn(first, token, 's-broken');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-codex-lab-profile')).toMatch(/^(alpha|beta)$/);
    await answer.text();
    expect(await readFile(registryPath, 'utf8')).toBe('{"version":1,"profiles":[{"name":');
  });

  it('a router started over a registry that does not parse names the file to Codex, not "no profiles yet"', async () => {
    const registryPath = join(home, 'auth-profiles.json');
    await writeFile(registryPath, '{"version":1,"profiles":[{"name":');
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const first = await startServe(home, env());
    children.push(first);
    const answer = await postTurn(first, token, 's-broken-start');
    expect(answer.status).toBe(400);
    const text = await answer.text();
    expect(text).toBe(
      `Codex Lab cannot read its profiles: ${registryPath} is not valid JSON. It was left untouched: fix or move it, then try again.`,
    );
    expect(text).not.toContain('codex-lab login');
  });

  it('a router.json naming something else: the CLI says so, works on the files, and never sends the token there', async () => {
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const seen: IncomingHttpHeaders[] = [];
    const impostor = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ app: 'codex-lab', proof: 'not-a-proof', ok: true }));
    });
    servers.push(impostor);
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as { port: number }).port;
    // A live pid (this test process) on a port where something else answers.
    await writeFile(
      join(home, 'state', 'router.json'),
      JSON.stringify({ port, pid: process.pid }),
      { mode: 0o600 },
    );

    const use = await runCodexLab(['use', 'beta'], { home });
    expect(use.code).toBe(0);
    expect(use.stdout.trim()).toBe('New unpinned sessions now use beta.');
    expect(use.stderr.trim()).toBe(
      `codex-lab: state/router.json names http://127.0.0.1:${port}, but what answers there is not this home's Codex Lab router; working on the files directly.`,
    );
    const registry = JSON.parse(await readFile(join(home, 'auth-profiles.json'), 'utf8'));
    expect(registry.active).toBe('beta');
    expect(seen.length).toBeGreaterThan(0);
    for (const headers of seen) {
      expect(JSON.stringify(headers)).not.toContain(token);
      expect(headers.authorization).toBeUndefined();
    }
    const status = await runCodexLab(['status'], { home });
    expect(status.code).toBe(1);
  });
});
