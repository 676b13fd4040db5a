/**
 * The folders a sign-in's save writes in are probed, from one list, before the sign-in URL and
 * again at the save: an unwritable one is named before any browser step; one made unwritable
 * after the issuer answered keeps the sign-in in the journal (or, when the journal cannot take it
 * either, revokes it), never drops live tokens.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveSignIn, type SignInStore } from '../../../core/auth/sign-in.ts';
import { isLabError, LabError } from '../../../core/errors.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { silentLogger } from '../../../core/ports.ts';
import {
  findUnwritableFolder,
  nodeProbeFs,
  signInFolders,
  type ProbeFs,
} from '../../../core/profiles/sign-in-folders.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { journalRecords } from '../../helpers/journal-records.ts';
import { makeAuth, plantedRefreshToken, secretsOf } from '../../helpers/profile-auth.ts';

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };

/** The real file system, except that creating a file in a folder of `denied` fails with EACCES. */
function denying(denied: Set<string>): ProbeFs {
  return {
    ...nodeProbeFs,
    async create(path) {
      if ([...denied].some((folder) => path.startsWith(`${folder}/`))) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
          code: 'EACCES',
        });
      }
      await nodeProbeFs.create(path);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<LabError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!isLabError(error)) throw new Error(`expected a LabError, got ${String(error)}`);
  return error;
}

describe('the folders a sign-in is saved in', () => {
  let home: string;
  let paths: LabPaths;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'codex-lab-sign-in-folders-'));
    paths = labPaths(home);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lists the home, the profiles folder, each profile’s folder and those under state/', () => {
    expect(signInFolders(paths, ['alice'])).toEqual([
      paths.home,
      paths.profilesDir,
      paths.profileDir('alice'),
      paths.stateDir,
      paths.locksDir,
      paths.journalDir,
    ]);
  });

  it('finds a writable home writable, making no folder and leaving no probe file', async () => {
    expect(await findUnwritableFolder(signInFolders(paths, []))).toBeNull();
    expect(await readdir(home)).toEqual([]);
  });

  it('names a folder where a file stands, and one that refuses a file', async () => {
    await writeFile(paths.stateDir, 'not a folder');
    expect(await findUnwritableFolder(signInFolders(paths, []))).toEqual({
      folder: paths.stateDir,
      reason: 'it is a file, not a folder',
    });
    await rm(paths.stateDir);
    await mkdir(paths.profilesDir);
    expect(
      await findUnwritableFolder(signInFolders(paths, []), denying(new Set([paths.profilesDir]))),
    ).toEqual({ folder: paths.profilesDir, reason: 'EACCES' });
  });

  it('probes a folder not made yet in the folder above it, where the save makes it', async () => {
    // state/ is missing: its locks and journal are made in the home, which refuses files.
    expect(await findUnwritableFolder([paths.journalDir], denying(new Set([paths.home])))).toEqual({
      folder: paths.home,
      reason: 'EACCES',
    });
  });

  it('refuses a sign-in before it starts, naming the folder in one sentence', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    const denied = new ProfileStore({
      paths,
      probeFs: denying(new Set([paths.profileDir('alice')])),
    });
    for (const name of [null, 'alice']) {
      const error = await failure(denied.precheckSignIn(name));
      expect(error.code).toBe('io_error');
      expect(error.message).toBe(
        `Codex Lab cannot write in ${paths.profileDir('alice')} (EACCES), so a sign-in could not be saved and no sign-in was started: make it a folder you can write in (or set CODEX_LAB_HOME to one), then sign in again.`,
      );
    }
    await store.precheckSignIn(null);
  });

  it('keeps a sign-in the save cannot write in the journal, and saves it once it can', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    const denied = new Set([paths.profileDir('alice')]);
    const blocked = new ProfileStore({ paths, probeFs: denying(denied) });
    const again = makeAuth({ ...alice, generation: 2 });
    const error = await failure(blocked.saveSignIn({ auth: again, requestedName: null }));
    expect(error.code).toBe('io_error');
    expect(error.details?.['kept']).toBe(true);
    expect(error.message).toMatch(
      /^The sign-in as alice@example\.com could not be saved \(Codex Lab cannot write in .*alice \(EACCES\)\); it was kept in .*state.journal.*\.json, not lost, and the next codex-lab command/,
    );
    for (const secret of secretsOf(again)) expect(error.message).not.toContain(secret);
    expect(await journalRecords(paths)).toHaveLength(1);

    // The folder can be written again: the next load saves the kept sign-in.
    denied.clear();
    await blocked.listProfiles();
    expect((await blocked.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 2 }),
    );
    expect(await journalRecords(paths)).toEqual([]);
  });
});

describe('a sign-in that can be neither saved nor kept', () => {
  const tokens = (() => {
    const auth = makeAuth(alice);
    return {
      idToken: auth.tokens!.id_token,
      accessToken: auth.tokens!.access_token,
      refreshToken: auth.tokens!.refresh_token,
    };
  })();

  function environment(profiles: SignInStore, revokes: string[]) {
    return {
      paths: labPaths('/nonexistent-codex-lab-home'),
      issuer: 'https://issuer.test',
      clock: { now: () => 0, setTimeout: () => () => undefined },
      logger: silentLogger,
      profiles,
      fetch: async (url: string, init: RequestInit) => {
        revokes.push(`${url} ${String(init.body)}`);
        return new Response('{}', { status: 200 });
      },
    };
  }

  it('is revoked at the issuer, and the error says so', async () => {
    const revokes: string[] = [];
    const profiles: SignInStore = {
      saveSignIn: () =>
        Promise.reject(
          new LabError('io_error', 'Codex Lab cannot write in /x/state (EROFS).', {
            details: { nothingWritten: true },
          }),
        ),
    };
    const error = await failure(saveSignIn(environment(profiles, revokes), tokens, null, null));
    expect(error.code).toBe('io_error');
    expect(error.message).toBe(
      'The sign-in could not be saved or kept (Codex Lab cannot write in /x/state (EROFS)), so it was revoked at the issuer (nothing stays signed in unseen): fix that, then sign in again.',
    );
    expect(revokes).toHaveLength(1);
    expect(revokes[0]).toMatch(/^https:\/\/issuer\.test\/oauth\/revoke /);
    expect(revokes[0]).toContain(tokens.refreshToken);
  });

  it('is not revoked when the store kept it, may have written it, or refused it for another reason', async () => {
    const revokes: string[] = [];
    for (const thrown of [
      new LabError('io_error', 'kept', { details: { kept: true } }),
      // A write that failed half way (the auth file written, the registry not): the tokens may
      // be the profile's sign-in now.
      new LabError('io_error', 'ENOSPC while writing the registry'),
      new LabError('name_taken', 'taken'),
    ]) {
      const profiles: SignInStore = { saveSignIn: () => Promise.reject(thrown) };
      expect(await failure(saveSignIn(environment(profiles, revokes), tokens, null, null))).toBe(
        thrown,
      );
    }
    expect(revokes).toEqual([]);
  });
});
