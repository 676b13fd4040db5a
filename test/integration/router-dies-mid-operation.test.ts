/**
 * Issue 8, bad input: the router dies while a CLI operation runs through it. The CLI says so in
 * one sentence and exits non-zero, and the operation is applied fully or not at all. The rename is
 * held inside the real `serve` by the profile's refresh lock (which rename takes, so a refresh in
 * flight lands first), the `serve` is killed with SIGKILL while it waits, and the files show the
 * rename did not happen; running the command again then works on the files.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { withLock } from '../../core/home/lock.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { runCodexLab } from '../helpers/cli.ts';
import {
  type ServeChild,
  type TwoProfileWorld,
  startServe,
  startTwoProfileWorld,
} from './cli-serve-helper.ts';

let world: TwoProfileWorld;
let fake: FakeChatGpt;
let home: string;
let children: ServeChild[];

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-router-dies-');
  ({ fake, home, children } = world);
});

afterEach(() => world.close());

describe('the router dies during a CLI operation', () => {
  it('reports it in one sentence, exits non-zero, and leaves the rename not applied', async () => {
    const env = {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    };
    const serve = await startServe(home, env);
    children.push(serve);
    const paths = labPaths(home);
    const authBefore = await readFile(join(paths.profilesDir, 'alpha', 'auth.json'), 'utf8');

    const run = await withLock(paths.locksDir, 'refresh-alpha', async () => {
      const renaming = runCodexLab(['rename', 'alpha', 'work'], { home, env });
      // Give the command time to find the router and reach the lock inside it; the outcome is the
      // same if the kill lands earlier (the router is gone either way).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      serve.child.kill('SIGKILL');
      await serve.exited;
      return renaming;
    });

    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    // The failure is one sentence, the last line. Before it, at most the wait for the refresh
    // lock (held here, by this process), said once if the command reached it before the kill.
    const failure = lines.at(-1) ?? '';
    expect(lines.length).toBeLessThanOrEqual(2);
    if (lines.length === 2) {
      expect(lines[0]).toMatch(
        new RegExp(
          `^codex-lab: Waiting for Codex Lab process ${process.pid}, which holds profile alpha's token refresh`,
        ),
      );
    }
    expect(failure).toMatch(/stopped answering while renaming alpha to work; /);
    // The command line adds its own way out to the core's sentence.
    expect(failure).toMatch(/: check with codex-lab list and run the command again\.$/);
    expect(run.stderr).not.toMatch(/\n\s+at /);

    const listed = await runCodexLab(['list', '--json'], { home, env });
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as Array<{ name: string }>).map((p) => p.name);
    expect(names).toEqual(['alpha', 'beta']);
    expect(await readFile(join(paths.profilesDir, 'alpha', 'auth.json'), 'utf8')).toBe(authBefore);

    // Running it again is safe: with the router gone it works on the files.
    const again = await runCodexLab(['rename', 'alpha', 'work'], { home, env });
    expect(again.code, again.stderr).toBe(0);
    const renamed = JSON.parse(
      (await runCodexLab(['list', '--json'], { home, env })).stdout,
    ) as Array<{
      name: string;
    }>;
    expect(renamed.map((p) => p.name).sort()).toEqual(['beta', 'work']);
  });
});
