/**
 * `rename` and `remove` wait for a token refresh of the profile in flight (its new tokens are
 * written first), which may take as long as the issuer does (minutes). The command says so at
 * once, whether it acts on the files itself or through a running router: before, through the
 * router it said nothing at all for the whole wait (the router's own log had the sentence), so a
 * `codex-lab rename` next to a live session with a slow issuer looked frozen.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { withLock } from '../../core/home/lock.ts';
import { runCodexLab, saidToUser, type CliRun } from '../helpers/cli.ts';
import { startServe, startTwoProfileWorld, type TwoProfileWorld } from './cli-serve-helper.ts';

let world: TwoProfileWorld;
let paths: LabPaths;
let env: Record<string, string>;

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-change-wait-');
  paths = labPaths(world.home);
  env = {
    CODEX_LAB_CHATGPT_BASE_URL: world.fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: world.fake.issuerUrl,
  };
});

afterEach(() => world.close());

/**
 * Runs `codex-lab ARGS` while this test process holds alpha's refresh lock (as a refresh in
 * flight does), letting it go after `holdMs`.
 */
async function whileRefreshHeld(args: string[], holdMs: number): Promise<CliRun> {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let taken = (): void => undefined;
  const holding = new Promise<void>((resolve) => (taken = resolve));
  const held = withLock(paths.locksDir, 'refresh-alpha', async () => {
    taken();
    await released;
  });
  await holding;
  const run = runCodexLab(args, { home: world.home, env });
  setTimeout(release, holdMs);
  await held;
  return run;
}

const waitSentence = `Waiting for Codex Lab process ${process.pid}, which holds profile alpha's token refresh (its new tokens are written first); if that process is stopped (Ctrl-Z), resume or end it`;

it.each([
  ['rename', ['rename', 'alpha', 'gamma']],
  ['remove', ['remove', 'alpha']],
])(
  '%s through a running router says it waits for the refresh, as on the files',
  async (_label, args) => {
    const serve = await startServe(world.home, env);
    world.children.push(serve);
    const run = await whileRefreshHeld(args, 3_000);
    expect(run.code).toBe(0);
    expect(saidToUser(run.stderr)).toContain(`codex-lab: ${waitSentence}.`);
    // Said once, while it waited: not again when the answer came.
    expect(run.stderr.split('holds profile alpha').length).toBe(2);
  },
  60_000,
);

it('rename on the files (no router) says the same sentence', async () => {
  const run = await whileRefreshHeld(['rename', 'alpha', 'gamma'], 3_000);
  expect(run.code).toBe(0);
  expect(saidToUser(run.stderr)).toContain(`codex-lab: ${waitSentence}.`);
}, 60_000);

it('says nothing when the refresh lock is free', async () => {
  const serve = await startServe(world.home, env);
  world.children.push(serve);
  const run = await runCodexLab(['rename', 'alpha', 'gamma'], { home: world.home, env });
  expect(run.code).toBe(0);
  expect(run.stderr).toBe('');
}, 60_000);
