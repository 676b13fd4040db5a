/**
 * A keychain that hangs instead of refusing (an unlock prompt no one answers): the views of
 * several keychain profiles wait for their reads all together, under one deadline (the keychain's
 * own limit for one call), not one wait per profile; the profiles not checked by then are named
 * in one sentence, and each shows `keychain unavailable`. Time is the test's own clock.
 */
import { mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { keyringCallTimeoutMs } from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import type { LabError } from '../../../core/errors.ts';
import type { ProfileView } from '../../../core/view-types.ts';
import { buildProfileViews } from '../../../core/service/views.ts';
import { HangingKeyring } from '../../fakes/hanging-keyring.ts';
import { MemoryKeyring } from '../../fakes/memory-keyring.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';
import { FakeClock } from '../router/fake-clock.ts';

/** A home with three keychain profiles and one file profile. */
async function home(): Promise<ReturnType<typeof labPaths>> {
  const paths = labPaths(tempFolder('codex-lab-views-keychain-'));
  const store = new ProfileStore({ paths, keyring: new MemoryKeyring() });
  for (const name of ['alpha', 'beta', 'gamma']) {
    await store.saveSignIn({
      auth: makeAuth({ email: `${name}@example.com`, accountId: `acct-${name}` }),
      requestedName: name,
      store: 'keyring',
    });
  }
  await store.saveSignIn({
    auth: makeAuth({ email: 'file@example.com', accountId: 'acct-file' }),
    requestedName: 'file',
  });
  return paths;
}

describe('buildProfileViews over a keychain that hangs', () => {
  it('waits for every keychain profile under one deadline, then names those not checked in time', async () => {
    const paths = await home();
    const keyring = new HangingKeyring();
    const clock = new FakeClock();
    const problems: Array<[LabError, string | undefined]> = [];
    let views: ProfileView[] | undefined;
    const building = buildProfileViews(paths, clock.now(), {
      readKeychain: true,
      keyring,
      clock,
      onProblem: (error, profile) => problems.push([error, profile]),
    }).then((built) => (views = built));

    // All three reads are asked at once, under one timer.
    await keyring.asked(3);
    expect(clock.pending).toBe(1);
    clock.advance(keyringCallTimeoutMs - 1);
    await Promise.resolve();
    expect(views).toBeUndefined();

    clock.advance(1);
    await building;
    expect(keyring.reads).toBe(3);
    const byName = new Map(views!.map((view) => [view.name, view]));
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(byName.get(name)).toMatchObject({
        status: 'auth_error',
        statusCode: 'keyring_unavailable',
      });
      expect(byName.get(name)?.statusMessage).toContain(name);
    }
    expect(byName.get('file')?.status).not.toBe('auth_error');
    // One sentence names every profile that could not be checked in time.
    expect(problems.map(([error]) => [error.code, error.message])).toEqual([
      [
        'keyring_unavailable',
        'The OS keychain did not answer within 10 s, so the sign-ins of alpha, beta and gamma could not be checked: unlock the keychain.',
      ],
    ]);
  });

  it('reads the keychain entry of a folder no registry lists while it reads the profiles', async () => {
    const paths = await home();
    // A folder with no auth file that the registry does not list: maybe a keychain profile's.
    await mkdir(paths.profileDir('stray'));
    const keyring = new HangingKeyring();
    const clock = new FakeClock();
    const building = buildProfileViews(paths, clock.now(), { readKeychain: true, keyring, clock });
    // The stray folder's read and the three profiles' are asked before any answers.
    await keyring.asked(4);
    keyring.release();
    const views = await building;
    expect(views.map((view) => view.name).sort()).toEqual(['alpha', 'beta', 'file', 'gamma']);
    expect(clock.pending).toBe(0);
  });

  it('reports a keychain that answers at once as before, and arms no deadline that outlives it', async () => {
    const paths = await home();
    const keyring = new MemoryKeyring();
    keyring.outage = 'all';
    const clock = new FakeClock();
    const problems: LabError[] = [];
    const views = await buildProfileViews(paths, clock.now(), {
      readKeychain: true,
      keyring,
      clock,
      onProblem: (error) => problems.push(error),
    });
    expect(clock.pending).toBe(0);
    expect(problems.map((error) => error.code)).toEqual([
      'keyring_unavailable',
      'keyring_unavailable',
      'keyring_unavailable',
    ]);
    expect(views.filter((view) => view.statusCode === 'keyring_unavailable')).toHaveLength(3);
  });
});
