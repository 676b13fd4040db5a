/**
 * A usage read takes the account it reads from the profile list its operation loaded, and loads
 * the list once more only to find the name that account has when the figures come back (a rename
 * racing the read: `usage-refresh-rename.test.ts`): never twice per read.
 */
import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { createTestLabService } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('a refresh of every account loads the profile list once per read, not twice', async () => {
  const names = ['alpha', 'beta', 'gamma'];
  const fake = await startFakeChatGpt({
    accounts: names.map((name) => ({ email: `${name}@x.test` })),
  });
  const home = await makeTempHome('codex-lab-usage-loads-');
  cleanups.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  await seedProfiles(
    fake,
    home,
    names.map((name) => ({ name, email: `${name}@x.test` })),
  );
  const service = createTestLabService(fake, labPaths(home));
  cleanups.push(() => service.stop());
  await service.start({ port: 0 });
  // A first refresh fills the router's credential cache: the reads counted below take each
  // account's tokens from it, not from its auth file (whose reads load the list themselves).
  expect(await service.refreshUsage({ profile: null })).toMatchObject({ ok: true });
  // Every load of the profile list any store of this process makes, counted.
  const original = ProfileStore.prototype.listProfiles;
  let loads = 0;
  ProfileStore.prototype.listProfiles = function (this: ProfileStore) {
    loads += 1;
    return original.call(this);
  };
  cleanups.push(() => {
    ProfileStore.prototype.listProfiles = original;
  });

  const refreshed = await service.refreshUsage({ profile: null });
  expect(refreshed).toMatchObject({ ok: true, value: { refreshed: names } });
  // The router's reload before the reads, the refresh's own (the names and their accounts), the
  // quota file's check of whose figures it keeps, and one per read to find the name after it.
  expect(loads).toBe(3 + names.length);
});
