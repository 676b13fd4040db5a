/**
 * A real `LabEngine` over an in-memory registry of `profileCount` profiles (`profile-0`, …), with
 * stand-in credentials and no file checks while it runs: the routing path alone, for the sticky
 * tests and `bench/routing-engine.ts`. Its files (health, quota) live under `home`.
 */
import { join } from 'node:path';
import { labPaths } from '../../core/home/paths.ts';
import { silentLogger, type Clock } from '../../core/ports.ts';
import { LabEngine } from '../../core/proxy/lab-engine.ts';
import { emptyRegistry, type Registry } from '../../core/profiles/schema.ts';
import { QuotaBook } from '../../core/quota/quota-book.ts';
import { ActivityLog } from '../../core/service/events.ts';
import { HealthStore } from '../../core/state/health-store.ts';

/** Builds and loads the engine; `registry` is the live object it reads (edit it, then reload). */
export async function inMemoryEngine(options: {
  home: string;
  profileCount: number;
  clock: Clock;
  onPoolWalk?: () => void;
}): Promise<{ engine: LabEngine; registry: Registry; names: string[]; activity: ActivityLog }> {
  const { home, clock } = options;
  const names = Array.from({ length: options.profileCount }, (_, index) => `profile-${index}`);
  const registry = emptyRegistry();
  const activity = new ActivityLog(clock);
  const engine = new LabEngine({
    paths: labPaths(home),
    store: {
      readRegistry: async () => registry,
      listProfiles: async () => names.map((name) => ({ name })),
    },
    health: new HealthStore(labPaths(home)),
    credentials: {
      getCredentials: async () => ({ accessToken: 'token', accountId: null }),
      refreshAfterUnauthorized: async () => ({ accessToken: 'token', accountId: null }),
    },
    activity,
    quota: new QuotaBook({
      clock,
      path: join(home, 'quota.json'),
      logger: silentLogger,
      write: async () => undefined,
    }),
    clock,
    logger: silentLogger,
    // The registry is in memory: no file check while routing.
    reloadIntervalMs: Number.MAX_SAFE_INTEGER,
    ...(options.onPoolWalk ? { onPoolWalk: options.onPoolWalk } : {}),
  });
  await engine.load();
  return { engine, registry, names, activity };
}
