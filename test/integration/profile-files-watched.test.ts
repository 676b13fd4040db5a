/**
 * The service follows each profile's auth.json and the profile folders without any traffic: a
 * file broken by another program shows as a problem within seconds, mending it clears the
 * problem, and a folder the registry does not list is reported as soon as it holds a sign-in.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, it } from 'vitest';
import type { LabState } from '../../core/service/contract.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

/** Resolves with the first pushed state that `test` accepts, or fails after `ms`. */
function nextState(
  states: LabState[],
  test: (state: LabState) => boolean,
  ms = 5_000,
): Promise<LabState> {
  const from = states.length;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = setInterval(() => {
      const found = states.slice(from).find(test);
      if (found) {
        clearInterval(look);
        resolve(found);
      } else if (Date.now() - started > ms) {
        clearInterval(look);
        reject(new Error(`no such state within ${ms} ms`));
      }
    }, 50);
  });
}

const saysInvalidJson = (state: LabState) =>
  state.problems.some((problem) => problem.message.includes('not valid JSON'));

describe('profile files edited by another program', () => {
  it('shows a broken auth.json, its repair and a new unlisted folder within seconds', async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-watch-',
      accounts: [{ email: 'house@example.com' }, { email: 'ghost@example.com' }],
      profiles: [['house@example.com', 'house']],
    });
    const { paths, service } = router;
    const states: LabState[] = [];
    const unsubscribe = service.subscribe((state) => states.push(state));
    try {
      const good = readFileSync(paths.profileAuth('house'), 'utf8');
      writeFileSync(paths.profileAuth('house'), '{ not json');
      await nextState(states, saysInvalidJson);
      writeFileSync(paths.profileAuth('house'), good);
      await nextState(states, (state) => !saysInvalidJson(state));

      // A folder made first and filled a moment later (as a copy from another machine is).
      mkdirSync(paths.profileDir('ghost'));
      await new Promise((resolve) => setTimeout(resolve, 600));
      writeFileSync(paths.profileAuth('ghost'), good);
      await nextState(states, (state) =>
        state.problems.some((problem) => problem.code === 'unlisted_profile'),
      );
    } finally {
      unsubscribe();
    }
  });
});
