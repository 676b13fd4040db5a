/**
 * The desktop app's host (`electron/lab-host.ts`, a pure module: no Electron here) and `serve`
 * coexist: started while `serve` runs for the home it attaches as a client (state and operations
 * work against that router); hosting the router itself it records `state/router.json`, and CLI
 * operations are live on its subscribers within a second; a port held by another program or a
 * malformed setting is one clear sentence.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError } from '../../core/errors.ts';
import { withLock } from '../../core/home/lock.ts';
import { labPaths } from '../../core/home/paths.ts';
import { startRouterHost } from '../../core/service/router-host.ts';
import type { LabState } from '../../core/service/contract.ts';
import { streamIdleMs } from '../../core/view-types.ts';
import { createLabHost, type LabHost } from '../../electron/lab-host.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { codexTurnBody, createTestLabService, postToRouter } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];
const hosts: LabHost[] = [];
const servers: Server[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CODEX_LAB_HOME: home,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_PORT: '0',
    CODEX_LAB_LOG_LEVEL: 'error',
    ...extra,
  };
}

async function host(extra: Record<string, string> = {}): Promise<LabHost> {
  const created = await createLabHost({ env: env(extra), rendererDir: null });
  hosts.push(created);
  return created;
}

async function failure(extra: Record<string, string>): Promise<{ code: string; message: string }> {
  try {
    await host(extra);
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the host started');
}

/**
 * Collects what `lab` delivers from now on; `seen(check)` then waits until some delivered state
 * satisfies `check`, failing when that takes more than a second after the call (the operation
 * that should produce it has returned by then).
 */
function follow(created: LabHost): {
  seen: (check: (state: LabState) => boolean) => Promise<void>;
} {
  const states: LabState[] = [];
  const unsubscribe = created.lab.subscribe((state) => states.push(state));
  hostUnsubscribes.push(unsubscribe);
  return {
    async seen(check) {
      const deadline = Date.now() + 1000;
      while (!states.some(check)) {
        if (Date.now() > deadline) throw new Error('no matching state within 1 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      states.length = 0;
    },
  };
}
const hostUnsubscribes: Array<() => void> = [];

/** Waits (real time) until `check` holds, failing after `withinMs`. */
async function until(check: () => boolean, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-desktop-host-');
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  for (const unsubscribe of hostUnsubscribes.splice(0)) unsubscribe();
  for (const created of hosts.splice(0)) await created.close();
  await stopServes(children);
  for (const server of servers.splice(0)) server.close();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('the desktop host', () => {
  it('attaches to a running serve: state and operations go through it', async () => {
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const created = await host();
    expect(created.mode()).toBe('attached');
    expect(created.routerOrigin()).toBe(serve.url);
    expect((await created.lab.getState()).profiles.map((p) => p.name)).toEqual(['alpha', 'beta']);
    const events = follow(created);
    expect(await created.lab.setActive({ profile: 'beta' })).toEqual({ ok: true, value: null });
    await events.seen((state) => state.active === 'beta');
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const routed = await postToRouter(
      serve.url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody(),
    );
    await routed.text();
    expect(routed.headers.get('x-codex-lab-profile')).toBe('beta');
    // The serve still owns router.json; the app never rewrote it.
    const info = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(info).toMatchObject({ pid: serve.child.pid, host: 'serve' });
  });

  it('attached to a serve that froze: says so once, and follows it again once it wakes', async () => {
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const clock = new FakeClock();
    const created = await createLabHost({ env: env(), rendererDir: null, clock });
    hosts.push(created);
    expect(created.mode()).toBe('attached');
    const states: LabState[] = [];
    const offline: string[] = [];
    hostUnsubscribes.push(
      created.lab.subscribe(
        (state) => states.push(state),
        (message) => offline.push(message),
      ),
    );
    expect(await created.lab.setActive({ profile: 'alpha' })).toEqual({ ok: true, value: null });
    await until(() => states.some((state) => state.active === 'alpha'));

    // kill -STOP: the socket stays open, nothing comes, not even the heartbeat.
    process.kill(serve.child.pid!, 'SIGSTOP');
    clock.advance(streamIdleMs);
    expect(offline).toEqual([
      `The Codex Lab router at ${serve.url} is not answering. Codex Lab keeps trying to reach it, and runs the router itself if that one stops.`,
    ]);
    // No command in a sentence for a window or a tray.
    expect(offline[0]).not.toMatch(/codex-lab /);

    // Woken, it is followed again: a new state arrives and operations reach it.
    states.length = 0;
    process.kill(serve.child.pid!, 'SIGCONT');
    await until(() => states.length > 0, 15_000);
    expect(created.mode()).toBe('attached');
    expect(await created.lab.setActive({ profile: 'beta' })).toEqual({ ok: true, value: null });
    await until(() => states.some((state) => state.active === 'beta'));
    expect(offline).toHaveLength(1);
  }, 40_000);

  it('hosts the router when none runs, records router.json, and CLI operations reach it live', async () => {
    const created = await host();
    expect(created.mode()).toBe('hosting');
    const info = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, host: 'app' });
    expect(`http://127.0.0.1:${info.port}`).toBe(created.routerOrigin());

    const events = follow(created);
    expect((await runCodexLab(['use', 'alpha'], { home })).code).toBe(0);
    await events.seen((state) => state.active === 'alpha');
    expect((await runCodexLab(['priming', 'on', 'beta'], { home })).code).toBe(0);
    await events.seen((state) => state.profiles.find((p) => p.name === 'beta')?.priming === true);
    expect((await runCodexLab(['usage', '--refresh'], { home, env: env() })).code).toBe(0);
    await events.seen((state) =>
      state.profiles.every((profile) => profile.quota.updatedAt !== null),
    );
    expect((await runCodexLab(['rename', 'beta', 'gamma'], { home })).code).toBe(0);
    await events.seen((state) => state.profiles.some((p) => p.name === 'gamma'));
    expect((await runCodexLab(['remove', 'alpha'], { home })).code).toBe(0);
    await events.seen((state) => state.profiles.map((p) => p.name).join() === 'gamma');

    const status = await runCodexLab(['status', '--json'], { home });
    expect(JSON.parse(status.stdout)).toMatchObject({
      running: true,
      host: 'app',
      pid: process.pid,
    });
    await created.close();
    hosts.splice(hosts.indexOf(created), 1);
    expect((await runCodexLab(['status'], { home })).code).toBe(1);
  });

  it('hosting the router: a token rotated from the CLI is adopted, and the dashboard link carries it', async () => {
    const created = await host();
    expect(created.mode()).toBe('hosting');
    const old = (await runCodexLab(['token'], { home })).stdout.trim();
    expect(await created.dashboardUrl()).toContain(encodeURIComponent(old));
    const rotated = await runCodexLab(['token', '--rotate', '--revoke-old'], { home });
    expect(rotated.code).toBe(0);
    const fresh = (await runCodexLab(['token'], { home })).stdout.trim();
    expect(fresh).not.toBe(old);
    expect(await created.dashboardUrl()).toContain(encodeURIComponent(fresh));
    const url = created.routerOrigin();
    const asked = async (bearer: string) =>
      (await fetch(`${url}/lab/v1/state`, { headers: { authorization: `Bearer ${bearer}` } }))
        .status;
    expect(await asked(fresh)).toBe(200);
    expect(await asked(old)).toBe(401);
    expect(await created.lab.setActive({ profile: 'beta' })).toEqual({ ok: true, value: null });
  });

  it('attached to a serve whose token is rotated and the old one revoked: keeps working with the new one', async () => {
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const created = await host();
    expect(created.mode()).toBe('attached');
    expect((await runCodexLab(['token', '--rotate', '--revoke-old'], { home })).code).toBe(0);
    const fresh = (await runCodexLab(['token'], { home })).stdout.trim();
    expect(await created.lab.setActive({ profile: 'beta' })).toEqual({ ok: true, value: null });
    expect((await created.lab.getState()).active).toBe('beta');
    expect(await created.dashboardUrl()).toContain(encodeURIComponent(fresh));
  });

  it('says in one sentence that another program holds the port, or that a setting is malformed', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    expect(await failure({ CODEX_LAB_PORT: String(port) })).toEqual({
      code: 'port_in_use',
      message: `Port ${port} on 127.0.0.1 is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or set CODEX_LAB_PORT to a free port.`,
    });
    expect(await failure({ CODEX_LAB_CALLBACK_PORT: 'abc' })).toEqual({
      code: 'invalid_config',
      message:
        'CODEX_LAB_CALLBACK_PORT must be a port number from 0 to 65535 (0 picks a free one), not "abc".',
    });
  });

  it('attaches to a running serve whose router.json is missing or damaged, once the serve writes it again', async () => {
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const infoPath = join(home, 'state', 'router.json');
    for (const damage of [() => rm(infoPath), () => writeFile(infoPath, 'garbage')]) {
      await damage();
      const created = await host();
      expect(created.mode()).toBe('attached');
      expect(created.routerOrigin()).toBe(serve.url);
      expect((await created.lab.getState()).profiles.map((p) => p.name)).toEqual(['alpha', 'beta']);
    }
  });

  it('says in one sentence, naming its pid, that a router holds the home without a readable router.json', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    // This process stands for a router whose router.json never comes back.
    const lock = withLock(labPaths(home).locksDir, 'router-run', async () => {
      held();
      await released;
    });
    await holding;
    try {
      const started = Date.now();
      const { code, message } = await failure({});
      expect(code).toBe('router_running');
      expect(message).toBe(
        `A Codex Lab router (pid ${process.pid}) is running for this home, but state/router.json cannot be read: ${join(home, 'state', 'router.json')} does not exist; move away what is in that file's place (the router then writes it again), or end process ${process.pid}.`,
      );
      // It waited for the file longer than the router takes to write it again.
      expect(Date.now() - started).toBeGreaterThan(2_000);
    } finally {
      release();
      await lock;
    }
  });

  it('takes over when the router it follows stops, though that router finishes its writes slowly', async () => {
    const paths = labPaths(home);
    const service = createTestLabService(fake, paths);
    const stopService = service.stop.bind(service);
    // The listener closes at once; the pending writes (a registry-lock wait, say) take longer
    // than the app's first look, and the home's run lock is held until they are done.
    service.stop = async () => {
      await stopService();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    };
    const router = await startRouterHost(service, { paths, port: 0, kind: 'serve' });
    const created = await host();
    expect(created.mode()).toBe('attached');
    const events = follow(created);
    await router.stop();
    const deadline = Date.now() + 10_000;
    while (created.mode() !== 'hosting') {
      if (Date.now() > deadline) throw new Error('the app did not take over within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const info = JSON.parse(await readFile(join(home, 'state', 'router.json'), 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, host: 'app' });
    expect(await created.lab.setActive({ profile: 'beta' })).toEqual({ ok: true, value: null });
    await events.seen((state) => state.active === 'beta');
  }, 20_000);
});
