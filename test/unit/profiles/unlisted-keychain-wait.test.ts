/**
 * Folders the registry does not list and that hold no auth file may be keychain profiles': each
 * load reads their keychain entries. A keychain that hangs instead of refusing costs the load one
 * wait (`keyringCallTimeoutMs`) for all of them together, not one per folder: what was not
 * answered by then is said as a keychain out of reach. Time is the test's own clock.
 */
import { mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { LabError } from '../../../core/errors.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { keyringCallTimeoutMs } from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { HangingKeyring } from '../../fakes/hanging-keyring.ts';
import { MemoryKeyring } from '../../fakes/memory-keyring.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { FakeClock } from '../router/fake-clock.ts';

/** Lets every promise that can settle now settle (the store's file reads included). */
async function settle(): Promise<void> {
  for (let round = 0; round < 20; round += 1) await new Promise((done) => setImmediate(done));
}

describe('unlisted folders over a keychain that hangs', () => {
  it('waits for all their keychain reads under one deadline, then says each was not checked', async () => {
    const paths = labPaths(tempFolder('codex-lab-unlisted-wait-'));
    await new ProfileStore({ paths, keyring: new MemoryKeyring() }).saveSignIn({
      auth: makeAuth({ email: 'file@example.com', accountId: 'acct-file' }),
      requestedName: 'file',
    });
    const strays = ['stray-a', 'stray-b', 'stray-c', 'stray-d'];
    for (const name of strays) await mkdir(paths.profileDir(name));
    const keyring = new HangingKeyring();
    const clock = new FakeClock();
    const store = new ProfileStore({ paths, keyring, clock });
    let problems: LabError[] | undefined;
    const loading = store.unlistedProfiles().then((found) => (problems = found));

    // Every folder's read is asked at once, under one timer.
    await keyring.asked(strays.length);
    expect(clock.pending).toBe(1);
    clock.advance(keyringCallTimeoutMs - 1);
    await settle();
    expect(problems).toBeUndefined();
    // Ended by the one deadline, not by each read's own limit one after another (without it,
    // this load never ends: the keychain here has no limit of its own).
    clock.advance(1);
    await loading;
    expect(problems!.map((problem) => [problem.code, problem.details?.['name']])).toEqual(
      strays.map((name) => ['keyring_unavailable', name]),
    );
    expect(problems![0]!.message).toContain('no answer within 10 s');
    expect(keyring.reads).toBe(strays.length);
  });
});
