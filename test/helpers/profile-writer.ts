/**
 * Child process for the crash test: rewrites the registry and one profile's auth.json as fast as
 * it can until it is killed. Prints `ready` once the first round is on disk.
 * Run as `node test/helpers/profile-writer.ts HOME PROFILE` (Node strips the types).
 */
import { randomBytes } from 'node:crypto';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeAuth } from './profile-auth.ts';

const [home, profile] = process.argv.slice(2);
if (!home || !profile) throw new Error('usage: profile-writer.ts HOME PROFILE');
const store = new ProfileStore({ paths: labPaths(home) });

for (let round = 0; ; round += 1) {
  // Sizes vary so that a torn write could not happen to look complete.
  const padding = randomBytes(1 + (round % 7) * 500).toString('hex');
  await store.updateRegistry((registry) => {
    const record = registry.profiles.find((p) => p.name === profile);
    if (record) record.label = `round ${round} ${padding}`;
    registry.pins.sessions = {
      [`s-${round}`]: { profile, allowFallback: false, createdAt: padding },
    };
  });
  await store.writeAuth(profile, {
    ...makeAuth({ email: 'crash@example.com', accountId: 'acct-crash', generation: round }),
    padding,
  });
  if (round === 0) process.stdout.write('ready\n');
}
