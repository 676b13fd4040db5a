/**
 * A client following a `codex-lab serve` that froze (`kill -STOP`: its sockets stay open, so
 * nothing errors or closes) notices by the shared silence rule (`watchStreamSilence`): the desktop
 * app attached to a serve used to look live forever, and an operation waited its full 30 s for an
 * answer and then told a GUI user to run a command.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import type { LabState } from '../../core/service/contract.ts';
import { RemoteLab } from '../../core/service/remote-lab.ts';
import { discoverRouter } from '../../core/service/router-discovery.ts';
import { streamIdleMs } from '../../core/view-types.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];
const cleanups: Array<() => void> = [];

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-remote-frozen-');
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const serve of children) serve.child.kill('SIGCONT');
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

/** Waits (real time, at most 5 s) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RemoteLab following a serve that froze', () => {
  it('reports the router offline once after the silence, and ends the call waiting on it', async () => {
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const found = await discoverRouter(labPaths(home));
    if (found.state !== 'running') throw new Error(`no router: ${found.state}`);
    const clock = new FakeClock();
    const offline: string[] = [];
    let disconnects = 0;
    const states: LabState[] = [];
    const remote = new RemoteLab({
      url: found.url,
      token: found.token,
      clock,
      onDisconnect: () => disconnects++,
    });
    cleanups.push(
      remote.subscribe(
        (state) => states.push(state),
        (message) => offline.push(message),
      ),
    );
    await until(() => states.length > 0);

    // Live: silence is counted from the last thing heard, not from the start.
    clock.advance(streamIdleMs - 5000);
    expect(await remote.setActive({ profile: 'alpha' })).toEqual({ ok: true, value: null });
    await until(() => states.some((state) => state.active === 'alpha'));
    clock.advance(streamIdleMs - 5000);
    expect(offline).toEqual([]);

    // Frozen: the socket stays open and nothing comes, not even the heartbeat.
    process.kill(serve.child.pid!, 'SIGSTOP');
    const started = Date.now();
    const waiting = remote.setActive({ profile: 'beta' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    clock.advance(streamIdleMs);
    expect(offline).toEqual([`The Codex Lab router at ${found.url} is not answering.`]);
    expect(disconnects).toBe(1);
    const result = await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, code: 'router_unavailable' });
    // The core names no command: each surface adds its own way to check and retry.
    if (!result.ok) {
      expect(result.message).toBe(
        `The router at ${found.url} stopped answering while making beta the active profile; it applies a change fully or not at all.`,
      );
    }
    clock.advance(streamIdleMs * 3);
    expect(offline).toHaveLength(1);
    expect(disconnects).toBe(1);
  }, 30_000);
});
