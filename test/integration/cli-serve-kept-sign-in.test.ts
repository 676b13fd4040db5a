/**
 * A sign-in kept in the journal (its profile stayed locked) is saved by a later load: a running
 * router must then route to the profile again, as it does after `codex-lab login`. Before, the
 * save deleted the profile's "needs sign-in" entry from the health file; the router takes only
 * entries newer than its own mark, so it kept refusing the profile until it was restarted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { authDotJsonSchema } from '../../core/profiles/schema.ts';
import { writeJournal } from '../../core/profiles/journal.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { authDotJsonFor, issueTokens } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { startServe, startTwoProfileWorld, type TwoProfileWorld } from './cli-serve-helper.ts';

let world: TwoProfileWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The text of one turn pinned to `profile` through the router. */
async function pinnedTurn(url: string, bearer: string, profile: string): Promise<string> {
  const answer = await fetch(`${url}/backend-api/codex/responses`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      session_id: 'kept-sign-in-session',
      'x-codex-lab-profile': profile,
    },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
  return answer.text();
}

it('routes to a profile again once its kept sign-in is saved', async () => {
  world = await startTwoProfileWorld('codex-lab-kept-sign-in-');
  const { fake, home } = world;
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const paths = labPaths(home);
  await new HealthStore(paths).markAuthError(
    'alpha',
    'refresh_token_reused',
    'Sign in again.',
    Date.now(),
  );
  const serve = await startServe(home, env);
  world.children.push(serve);
  const bearer = (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();
  expect(await pinnedTurn(serve.url, bearer, 'alpha')).not.toContain('Hello from alpha.');

  // The sign-in `codex-lab login alpha` kept while the profile stayed locked: fresh tokens, newer
  // than the ones the profile holds (an older sign-in is dropped, never saved over them).
  const auth = authDotJsonSchema.parse({
    ...authDotJsonFor(fake, issueTokens(fake, 'alpha@example.com')),
    last_refresh: new Date().toISOString(),
  });
  await writeJournal(paths.journalDir, {
    op: 'signin',
    requestedName: 'alpha',
    profile: 'alpha',
    accountId: auth.tokens?.account_id ?? null,
    email: 'alpha@example.com',
    auth,
  });
  const listed = await runCodexLab(['list'], { home, env });
  expect(listed.code).toBe(0);

  await expect
    .poll(() => pinnedTurn(serve.url, bearer, 'alpha'), { timeout: 10_000, interval: 250 })
    .toContain('Hello from alpha.');
}, 60_000);
