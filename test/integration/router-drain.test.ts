/**
 * A router asked to stop lets the turns it is streaming finish (docs/routing.md, "Stopping"): a
 * response cut mid-stream is generated again by Codex's retry, and paid for again. The wait is
 * bounded (`routerDrainMs`), a second Ctrl-C ends it, and `codex-lab stop` says what it waits for.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { routerDrainMs } from '../../core/config.ts';
import { labPaths } from '../../core/home/paths.ts';
import { systemClock, type Cancel, type Clock } from '../../core/ports.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { gatedTurns, type Gate } from '../helpers/gated-turns.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

/** The system clock, except that the drain's timer is held for the test to fire. */
function drainClock(): Clock & { fireDrain(): void; drainTimers(): number } {
  const held: Array<{ callback: () => void; cancelled: boolean }> = [];
  return {
    now: () => systemClock.now(),
    setTimeout(callback, delayMs): Cancel {
      if (delayMs !== routerDrainMs) return systemClock.setTimeout(callback, delayMs);
      const timer = { callback, cancelled: false };
      held.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    fireDrain() {
      for (const timer of held.splice(0)) if (!timer.cancelled) timer.callback();
    },
    drainTimers: () => held.filter((timer) => !timer.cancelled).length,
  };
}

/** Reads a streamed answer to its end: its text, and whether the stream ended cleanly. */
async function readAll(response: Response): Promise<{ text: string; complete: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, complete: true };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, complete: false };
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function startHeldRouter(): Promise<{
  fake: FakeChatGpt;
  service: LabService;
  url: string;
  token: string;
  gate: Gate;
  clock: ReturnType<typeof drainClock>;
}> {
  const { handler, gate } = gatedTurns();
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'ann@example.com' }],
    handlers: [handleIssuerRequest, handler, handleBackendRequest],
  });
  const home = await makeTempHome('codex-lab-drain-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [['ann@example.com', 'ann']]);
  const clock = drainClock();
  const service = createTestLabService(fake, paths, {
    clock,
    env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
  });
  const token = await service.routerToken();
  const { url } = await service.start({ port: 0 });
  cleanup.push(async () => {
    gate.open();
    await service.stop();
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  return { fake, service, url, token, gate, clock };
}

describe('a router stopping with turns in flight', () => {
  it('lets a streaming turn finish before it stops, and counts it while it runs', async () => {
    const { service, url, token, gate, clock } = await startHeldRouter();
    const answer = await postToRouter(url, token, '/backend-api/codex/responses', codexTurnBody());
    expect(answer.status).toBe(200);
    const body = readAll(answer);
    await gate.started;
    expect(service.inFlight()).toBe(1);

    // A dashboard following the state hears at once that the router is stopping.
    const heard: Array<{ running: boolean; stopping: boolean }> = [];
    service.subscribe((state) => heard.push(state.router));
    let stopped = false;
    const stopping = service.stop({ drainMs: routerDrainMs }).then(() => (stopped = true));
    // Heard when the state is next published, however busy the machine; the turn still holds it.
    await vi.waitFor(() => expect(heard.length).toBeGreaterThan(0), { timeout: 10_000 });
    expect(stopped).toBe(false);
    expect(heard).toMatchObject([{ running: true, stopping: true }]);
    expect(clock.drainTimers()).toBe(1);
    // Meanwhile a new turn is refused, and the router still says what it is doing (no client
    // takes a draining router for a frozen one).
    const late = await postToRouter(url, token, '/backend-api/codex/responses', codexTurnBody());
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe(
      'router_unavailable',
    );
    const state = await fetch(`${url}/lab/v1/state`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(state.status).toBe(200);
    // What every surface shows of the router: still there, and stopping.
    expect(((await state.json()) as { router: unknown }).router).toEqual({
      url,
      port: Number(new URL(url).port),
      running: true,
      stopping: true,
    });
    // And the turn it waits for is still counted: a second `codex-lab stop` says what it waits for.
    expect(service.inFlight()).toBe(1);

    gate.open();
    const { text, complete } = await body;
    await stopping;
    expect(complete).toBe(true);
    expect(text).toContain('event: response.completed');
    expect(text).toContain('finished');
    // The drain's timer is given back once the turn ended.
    expect(clock.drainTimers()).toBe(0);
  });

  it('ends the turn when the drain runs out, or at once when asked again', async () => {
    for (const ending of ['drain runs out', 'asked again'] as const) {
      const { service, url, token, gate, clock } = await startHeldRouter();
      const answer = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody(),
      );
      const body = readAll(answer);
      await gate.started;
      const again = new AbortController();
      const stopping = service.stop({ drainMs: routerDrainMs, signal: again.signal });
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (ending === 'drain runs out') clock.fireDrain();
      else again.abort();
      await stopping;
      const { text, complete } = await body;
      expect(complete, ending).toBe(false);
      expect(text, ending).toContain('event: response.created');
      expect(text, ending).not.toContain('response.completed');
    }
  });

  it('stops at once with nothing in flight', async () => {
    const { service, clock } = await startHeldRouter();
    await service.stop({ drainMs: routerDrainMs });
    expect(clock.drainTimers()).toBe(0);
  });
});

describe('codex-lab stop and Ctrl-C on serve, with a turn in flight', () => {
  let fake: FakeChatGpt;
  let home: string;
  const children: ServeChild[] = [];
  afterEach(async () => {
    await stopServes(children);
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });

  /** `status`, `status --json` and the dashboard's state all say the router is stopping. */
  async function expectStopping(serve: ServeChild, token: string): Promise<void> {
    const status = await runCodexLab(['status'], { home });
    expect(status.code).toBe(0);
    // Wrapped to a width: read as one line.
    expect(status.stdout.replace(/\s+/g, ' ')).toContain(
      `Codex Lab router stopping on ${serve.url} (codex-lab serve, pid ${serve.child.pid}): it lets the requests in flight finish, then exits.`,
    );
    expect(status.stdout).not.toContain('router running');
    const json = JSON.parse((await runCodexLab(['status', '--json'], { home })).stdout);
    expect(json).toMatchObject({ running: true, stopping: true, pid: serve.child.pid });
    const state = await fetch(`${serve.url}/lab/v1/state`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await state.json()) as { router: unknown }).router).toMatchObject({
      url: serve.url,
      running: true,
      stopping: true,
    });
  }

  it('SIGTERM lets the turn finish, and the router says it is stopping meanwhile', async () => {
    const { serve, token, gate } = await heldServe();
    const answer = await postTurn(serve, token, 'drain-session');
    const body = readAll(answer);
    await gate.started;
    serve.child.kill('SIGTERM');
    await waitFor(() => serve.output().includes('Letting the request in flight finish'));
    await expectStopping(serve, token);
    gate.open();
    expect((await body).complete).toBe(true);
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  });

  async function heldServe(): Promise<{ serve: ServeChild; token: string; gate: Gate }> {
    const { handler, gate } = gatedTurns();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'ann@example.com' }],
      handlers: [handleIssuerRequest, handler, handleBackendRequest],
    });
    home = await makeTempHome('codex-lab-drain-cli-');
    await seedProfiles(fake, home, [{ name: 'ann', email: 'ann@example.com' }]);
    const env = {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
    };
    const serve = await startServe(home, env);
    children.push(serve);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    return { serve, token, gate };
  }

  it('codex-lab stop waits for the turn, says so, and the turn completes', async () => {
    const { serve, token, gate } = await heldServe();
    const answer = await postTurn(serve, token, 'drain-session');
    const body = readAll(answer);
    await gate.started;
    const stop = runCodexLab(['stop'], { home });
    await waitFor(() => serve.output().includes('Letting the request in flight finish'));
    // A client asking meanwhile finds the router stopping, neither frozen nor simply running.
    await expectStopping(serve, token);
    gate.open();
    const stopped = await stop;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toBe(
      `Waiting for the request the router is answering to finish (at most ${routerDrainMs / 1000} s)…\n` +
        `Stopped the Codex Lab router on ${serve.url} (pid ${serve.child.pid}).\n`,
    );
    const { text, complete } = await body;
    expect(complete).toBe(true);
    expect(text).toContain('event: response.completed');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  });

  it('Ctrl-C lets the turn finish; a second Ctrl-C ends it at once', async () => {
    const { serve, token, gate } = await heldServe();
    const answer = await postTurn(serve, token, 'drain-session');
    const body = readAll(answer);
    await gate.started;
    serve.child.kill('SIGINT');
    await waitFor(() => serve.output().includes('Letting the request in flight finish'));
    expect(serve.output()).toContain(
      `Letting the request in flight finish (at most ${routerDrainMs / 1000} s; Ctrl-C again ends it now)…`,
    );
    await expectStopping(serve, token);
    serve.child.kill('SIGINT');
    const { text, complete } = await body;
    expect(complete).toBe(false);
    expect(text).not.toContain('response.completed');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  });
});

/** Polls `condition` every 20 ms for at most 10 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
