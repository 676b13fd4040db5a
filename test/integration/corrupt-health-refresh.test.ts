/**
 * A `state/health.json` that does not parse is the router's bookkeeping gone bad, never the
 * profile's auth file: a 401 answered by a refresh that succeeds keeps the turn on its account,
 * and the health file's problem is said once, by its name (explorer report, defect 3).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

describe('a corrupt health.json under a refresh after a 401', () => {
  it('keeps the turn on its account and names health.json once, never the auth file', async () => {
    const fake = await startFakeChatGpt({
      accounts: [
        { email: 'ann@example.com', usagePerTurn: 0 },
        { email: 'ben@example.com', usagePerTurn: 0 },
      ],
    });
    const home = await makeTempHome('codex-lab-corrupt-health-');
    const paths = labPaths(home);
    await signInProfiles(fake, paths, [
      ['ann@example.com', 'ann'],
      ['ben@example.com', 'ben'],
    ]);
    const service = createTestLabService(fake, paths);
    const token = await service.routerToken();
    const { url } = await service.start({ port: 0 });
    cleanup.push(async () => {
      await service.stop();
      await fake.close();
      await rm(home, { recursive: true, force: true });
    });
    const broken = '{"version":1,"prof';
    await writeFile(paths.health, broken);
    fake.account('ann@example.com').failures.push({ kind: 'unauthorized' });

    const answer = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session: 's1' }),
      { 'x-codex-lab-profile': 'ann' },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-codex-lab-profile')).toBe('ann');
    expect(await answer.text()).toContain('response.completed');

    const state = await service.getState();
    const ann = state.profiles.find((profile) => profile.name === 'ann');
    expect(ann?.status).not.toBe('auth_error');
    const named = state.problems.filter((problem) => problem.message.includes('health.json'));
    expect(named).toHaveLength(1);
    expect(state.problems.some((problem) => problem.message.includes('auth.json'))).toBe(false);
    // Reported, never overwritten.
    expect(await readFile(paths.health, 'utf8')).toBe(broken);
  });
});
