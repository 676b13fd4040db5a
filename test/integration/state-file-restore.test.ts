/**
 * `state/quota.json` or `state/health.json` moved aside while the router runs (as the error for a
 * corrupt one says to): the router writes it again from what it holds in memory at once, so
 * `codex-lab list` (which reads the files) does not show every profile "not checked yet" while
 * the dashboard shows the router's marks, until some later write happens to put it back.
 */
import { readFile, rename } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routedTurn, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter;
beforeEach(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-state-restore-',
    accounts: [{ email: 'ann@example.com' }],
    profiles: [['ann@example.com', 'ann']],
  });
});
afterEach(() => router.close());

/** The file's text, or '' while it is missing. */
const textOf = (path: string) => readFile(path, 'utf8').catch(() => '');

describe('a state file moved aside while the router runs', () => {
  it.each(['quota', 'health'] as const)(
    'state/%s.json is written again from the router’s memory',
    async (which) => {
      const path = router.paths[which];
      expect((await routedTurn(router.url, router.token, `s-${which}`)).profile).toBe('ann');
      // What the turn taught the router reaches the file (quota within its 1 s write delay).
      await expect.poll(() => textOf(path), { timeout: 3000, interval: 50 }).toContain('"ann"');
      const written = JSON.parse(await textOf(path)) as { profiles: Record<string, unknown> };

      await rename(path, `${path}.aside`);
      // Without another turn: only the router's memory can put it back.
      await expect.poll(() => textOf(path), { timeout: 3000, interval: 50 }).toContain('"ann"');
      const back = JSON.parse(await textOf(path)) as { profiles: Record<string, unknown> };
      expect(back.profiles['ann']).toEqual(written.profiles['ann']);
      expect(await textOf(`${path}.aside`)).not.toBe('');
    },
  );
});
