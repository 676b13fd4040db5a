/**
 * One router per home and how clients find it (docs/design.md section 8): a second `serve` says where
 * the first runs and exits 1 without touching it; `status`, `dashboard --print` and `stop` act on
 * the running one; a `state/router.json` naming something that is not our router is reported,
 * the CLI falls back to the files, and the router token never reaches that process.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];
const servers: Server[] = [];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-lifecycle-');
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
    expect(status.stdout).toMatch(
      new RegExp(
        `^Codex Lab router running on ${first.url.replaceAll('.', '\\.')} \\(codex-lab serve, pid ${first.child.pid}, up .+, version \\d+\\.\\d+\\.\\d+\\)\\.\\nProfiles: 2 \\(alpha, beta\\); active: auto\\.\\n$`,
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

  it('a deleted or damaged router.json: a second serve is still refused, and the running router writes the file again', async () => {
    const first = await startServe(home, env());
    children.push(first);
    const infoPath = join(home, 'state', 'router.json');
    const original = JSON.parse(await readFile(infoPath, 'utf8'));
    for (const damage of [
      () => rm(infoPath),
      () => writeFile(infoPath, 'garbage', { mode: 0o600 }),
    ]) {
      await damage();
      const second = await runCodexLab(['serve', '--port', '0'], { home, env: env() });
      expect(second.code).toBe(1);
      expect(second.stderr.trim()).toBe(
        `codex-lab: A Codex Lab router (pid ${first.child.pid}) already runs for this home, though ${infoPath} does not say where; it writes that file again within a few seconds, so try again then (codex-lab status), or end that process.`,
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

  it('a registry that stops parsing while the router runs: status and a refused turn name the file', async () => {
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
    // No profile's tokens can be found without the registry: only mending the file helps, so
    // Codex is told at once (a 400 in one sentence), naming the file once.
    const answer = await postTurn(first, token, 's-broken');
    expect(answer.status).toBe(400);
    const text = await answer.text();
    expect(text).toBe(
      `No Codex Lab profile can take this request: ${registryPath} is not valid JSON. It was left untouched: fix or move it, then try again.`,
    );
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
      `codex-lab: state/router.json names port ${port}, but what answers there is not this home's Codex Lab router; working on the files directly.`,
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
