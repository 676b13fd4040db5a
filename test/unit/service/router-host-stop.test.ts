/**
 * A hosted router's stop leaves the home free for the next one: `state/router.json` is not
 * written back by a check of the keeper still in flight, and the run lock is released even when
 * removing the record fails.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDirectory } from '../../../core/home/files.ts';
import { lockHolder } from '../../../core/home/lock.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import type { LabService } from '../../../core/service/lab-service.ts';
import { keepRouterInfo, startRouterHost } from '../../../core/service/router-host.ts';
import { removeRouterInfo, routerInfoPath } from '../../../core/service/router-info.ts';

let home: string;
let paths: LabPaths;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'codex-lab-router-host-'));
  paths = labPaths(home);
  await ensurePrivateDirectory(paths.stateDir);
  await ensurePrivateDirectory(paths.locksDir);
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A service that "listens" on a made-up port and whose stop does `onStop`. */
function fakeService(onStop: () => Promise<void> = async () => undefined): LabService {
  return {
    start: async () => ({ url: 'http://127.0.0.1:9', port: 9 }),
    stop: onStop,
  } as unknown as LabService;
}

describe("a hosted router's stop", () => {
  it('no keeper check in flight writes router.json back after it was removed', async () => {
    const info = {
      port: 9,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      version: '0.0.0',
      host: 'serve' as const,
    };
    // Checks every millisecond against a missing file, so one is usually in flight at stop.
    for (let round = 0; round < 30; round += 1) {
      const keeper = keepRouterInfo(paths, info, 1);
      await new Promise((resolve) => setTimeout(resolve, 3 + (round % 5)));
      await keeper.stop();
      await removeRouterInfo(paths, process.pid);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await exists(routerInfoPath(paths))).toBe(false);
    }
  });

  it('releases the run lock even when removing router.json fails', async () => {
    const router = await startRouterHost(
      fakeService(async () => {
        // The record cannot be removed: a folder stands where the file was.
        await rm(routerInfoPath(paths));
        await ensurePrivateDirectory(join(routerInfoPath(paths), 'x'));
      }),
      { paths, port: 0, kind: 'serve' },
    );
    expect(await exists(join(paths.locksDir, 'router-run.lock'))).toBe(true);
    expect(await lockHolder(paths.locksDir, 'router-run')).toBe(process.pid);
    await expect(router.stop()).rejects.toThrow();
    expect(await exists(join(paths.locksDir, 'router-run.lock'))).toBe(false);
  });
});
