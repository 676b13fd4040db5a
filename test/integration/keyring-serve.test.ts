/**
 * A profile kept in the OS keychain (`login --keyring`) serves routed requests through
 * `codex-lab serve`, as it does in the CLI: every surface builds its profile store through the one
 * factory, keyring included. Runs against the real Secret Service (gnome-keyring in the D-Bus
 * session `npm test` starts); skipped, saying why, where no keychain is reachable.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { createSystemKeyring, probeKeyring } from '../../core/profiles/keyring.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { codexTurnBody, postToRouter } from '../helpers/lab-service.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

const probe = await probeKeyring();
if (!probe.available) {
  console.warn(`[keyring] skipping the keyring-through-serve test: ${probe.reason}`);
}

describe.skipIf(!probe.available)('a keyring profile through codex-lab serve', () => {
  const children: ServeChild[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    await stopServes(children);
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('routes a request with the tokens read from the keychain and keeps the profile ok', async () => {
    const fake = await startFakeChatGpt();
    cleanups.push(() => fake.close());
    const email = `k${randomBytes(4).toString('hex')}@example.com`;
    fake.addAccount({ email });
    const home = await makeTempHome('codex-lab-keyring-serve-');
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const paths = labPaths(home);
    const store = new ProfileStore({ paths, keyring: createSystemKeyring() });
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, email) as AuthDotJson,
      requestedName: 'vault',
      store: 'keyring',
    });
    cleanups.push(() => store.remove('vault').catch(() => undefined));
    // The tokens live only in the keychain.
    await expect(stat(paths.profileAuth('vault'))).rejects.toMatchObject({ code: 'ENOENT' });

    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    const answer = await postToRouter(
      serve.url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session: 'keyring-session' }),
    );
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    expect(answer.headers.get('x-codex-lab-profile')).toBe('vault');
    expect(text).toContain('response.completed');

    const state = await fetch(`${serve.url}/lab/v1/state`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const profile = ((await state.json()) as { profiles: Array<Record<string, unknown>> })
      .profiles[0]!;
    expect(profile).toMatchObject({ name: 'vault', store: 'keyring' });
    expect(profile['status']).not.toBe('auth_error');
    const health = await readFile(paths.health, 'utf8').catch(() => '{}');
    expect(health).not.toContain('auth_error');
  });
});
