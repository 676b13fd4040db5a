/**
 * A keychain profile whose keychain is locked (or gone) while the router runs is named as an
 * unreadable auth file is: refused with one sentence saying what to do, shown as such on its card
 * and among the problems, left out of the pool's next pick, and back once the keychain unlocks.
 * The keychain is the real broker process over a stand-in native module that can be locked.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.ts';
import { labPaths } from '../../core/home/paths.ts';
import { silentLogger } from '../../core/ports.ts';
import { createSystemKeyring, nodeKeyringBroker } from '../../core/profiles/keyring.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { keychainRecheckMs } from '../../core/proxy/lab-engine.ts';
import type { LabState } from '../../core/service/contract.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { repositoryRoot } from '../helpers/auth-harness.ts';
import { postToRouter, codexTurnBody } from '../helpers/lab-service.ts';
import { tempFolder } from '../helpers/temp-folder.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function routerWithKeychainProfile() {
  const fake: FakeChatGpt = await startFakeChatGpt();
  cleanups.push(() => fake.close());
  fake.addAccount({ email: 'alice@example.com' });
  fake.addAccount({ email: 'bob@example.com' });
  const home = tempFolder('codex-lab-keychain-locked-');
  const paths = labPaths(home);
  // Outside the home: a change there would have the router re-read its files (and keychains).
  const lock = join(tempFolder('codex-lab-keychain-lock-'), 'locked');
  process.env['CODEX_LAB_FAKE_KEYRING_LOCKED'] = lock;
  cleanups.push(() => delete process.env['CODEX_LAB_FAKE_KEYRING_LOCKED']);
  const keyring = createSystemKeyring({
    launch: nodeKeyringBroker({
      keyringModule: join(repositoryRoot, 'test/fakes/keyring-module.cjs'),
    }),
  });
  const store = new ProfileStore({ paths, keyring });
  await store.saveSignIn({
    auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
    requestedName: 'alice',
    store: 'keyring',
  });
  await store.saveSignIn({
    auth: issueAuthDotJson(fake, 'bob@example.com') as AuthDotJson,
    requestedName: 'bob',
  });
  const clock = new FakeClock(Date.now());
  const service = new LabService({
    paths,
    config: readConfig({
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    }),
    clock,
    logger: silentLogger,
    rendererDir: null,
    usagePollMs: 0,
    keyring,
  });
  const token = await service.routerToken();
  const { url } = await service.start({ port: 0 });
  cleanups.push(() => service.stop());
  const turn = async (session: string, headers: Record<string, string> = {}) => {
    const answer = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session }),
      headers,
    );
    return { answer, text: await answer.text() };
  };
  return {
    clock,
    service,
    turn,
    lock: () => writeFileSync(lock, ''),
    unlock: () => rmSync(lock),
  };
}

describe('a keychain profile whose keychain is locked', () => {
  it('is refused, shown and skipped as an unreadable auth file is, and serves again once unlocked', async () => {
    const { clock, service, turn, lock, unlock } = await routerWithKeychainProfile();
    lock();

    const pinned = await turn('s1', { 'x-codex-lab-profile': 'alice' });
    expect(pinned.answer.status).toBe(400);
    const sentence =
      "The OS keychain is locked or unavailable (Couldn't access platform storage: Secret Service: unlock prompt was dismissed), so alice's sign-in cannot be read: unlock the keychain (Codex Lab tries it again within 15 s).";
    expect(pinned.text).toContain(`The pinned profile alice cannot be used: ${sentence}`);
    expect(pinned.text).not.toContain('failed on this request');

    const state: LabState = await service.getState();
    expect(state.problems).toContainEqual({ code: 'keyring_unavailable', message: sentence });
    expect(state.profiles.find((profile) => profile.name === 'alice')).toMatchObject({
      status: 'auth_error',
      statusCode: 'keyring_unavailable',
      statusMessage: sentence,
    });
    expect(state.pool.next.profile).toBe('bob');
    expect(state.pool.unreadable).toEqual(['alice']);

    const unpinned = await turn('s2');
    expect(unpinned.answer.status).toBe(200);
    expect(unpinned.answer.headers.get('x-codex-lab-profile')).toBe('bob');

    // Unlocked: the router reads the keychain again on its own, with no request to prompt it
    // (none would pick alice now).
    unlock();
    clock.advance(keychainRecheckMs);
    const deadline = Date.now() + 5000;
    let back: LabState = await service.getState();
    while (back.problems.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      back = await service.getState();
    }
    expect(back.problems).toEqual([]);
    expect(back.profiles.find((profile) => profile.name === 'alice')?.status).not.toBe(
      'auth_error',
    );
    const again = await turn('s4', { 'x-codex-lab-profile': 'alice' });
    expect(again.answer.status).toBe(200);
    expect(again.answer.headers.get('x-codex-lab-profile')).toBe('alice');
  });
});
