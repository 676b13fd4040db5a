/**
 * DESIGN section 8, "live means within a second": what the running router learnt from a turn
 * (the account's quota, from the answer's headers) is what `codex-lab list` shows (it asks the
 * running router for its live state), and what the files say a second later, for whatever reads
 * them. And one operation, one
 * answer: a command refused on the files is refused alike through the router's control API.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import type { ProfileView } from '../../core/service/contract.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { routedTurn, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-live-state-',
    accounts: [{ email: 'work@example.com' }],
    profiles: [['work@example.com', 'work']],
    hosted: true,
  });
});

afterAll(() => router.close());

describe('codex-lab list while a router runs', () => {
  it('shows the quota a turn reported within a second or two', async () => {
    const before = JSON.parse(
      (await runCodexLab(['list', '--json'], { home: router.home })).stdout,
    );
    expect((before as ProfileView[])[0]!.quota.primary).toBeNull();
    expect((await routedTurn(router.url, router.token, 'live-session')).profile).toBe('work');
    // The router saves what it learnt within a second: `list` shows it well before the old
    // five-second write (three seconds leave room for a busy machine).
    const listed = async () =>
      (
        JSON.parse(
          (await runCodexLab(['list', '--json'], { home: router.home })).stdout,
        ) as ProfileView[]
      )[0]!.quota.primary;
    await expect.poll(listed, { timeout: 3000, interval: 250 }).not.toBeNull();
    const saved = async () => {
      const file = await readFile(labPaths(router.home).quota, 'utf8').catch(() => '{}');
      return (JSON.parse(file) as { profiles?: Record<string, unknown> }).profiles?.['work'];
    };
    await expect.poll(saved, { timeout: 3000, interval: 250 }).toBeDefined();
  });
});

describe('a refused command with and without a router', () => {
  it('says the same sentence with the same exit code', async () => {
    const files = await makeTempHome('codex-lab-no-router-');
    try {
      await seedProfiles(router.fake, files, [{ name: 'work', email: 'work@example.com' }]);
      const long = 'x'.repeat(300);
      for (const args of [
        ['rename', 'work', long],
        ['use', long],
        ['pin', 'work', '--session', long],
        ['remove', 'work', '--force'],
      ]) {
        const [onFiles, throughRouter] = await Promise.all([
          runCodexLab(args, { home: files }),
          runCodexLab(args, { home: router.home }),
        ]);
        // Each is what the user typed (a name, a session id, options together): exit 2.
        expect(onFiles.code, args[0]).toBe(2);
        expect(throughRouter.stderr, args[0]).toBe(onFiles.stderr);
        expect(throughRouter.code, args[0]).toBe(onFiles.code);
      }
    } finally {
      await rm(files, { recursive: true, force: true });
    }
  });
});
