/**
 * `state/router.json`: where a running `codex-lab serve` listens (`{ port, pid }`), so
 * `codex-lab codex` and `codex-config` find a router started with `--port 0`. Written atomically
 * (0600) when serving starts and removed on a clean shutdown; a file whose process is gone is
 * ignored. Kept free of the router and HTTP client so short commands stay fast.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import type { LabPaths } from '../home/paths.ts';

/** `state/router.json`. */
export const routerInfoSchema = z.object({
  port: z.number().int().min(1).max(65535),
  pid: z.number().int().positive(),
});
/** `state/router.json`. */
export type RouterInfo = z.infer<typeof routerInfoSchema>;

/** The path of `state/router.json`. */
export function routerInfoPath(paths: LabPaths): string {
  return join(paths.stateDir, 'router.json');
}

/** Records where this process's router listens. */
export async function writeRouterInfo(paths: LabPaths, info: RouterInfo): Promise<void> {
  await writeJsonFile(routerInfoPath(paths), info);
}

/** Removes `state/router.json` if it still names `pid` (another router may have replaced it). */
export async function removeRouterInfo(paths: LabPaths, pid: number): Promise<void> {
  const current = await readJsonFile(routerInfoPath(paths), routerInfoSchema).catch(
    () => undefined,
  );
  if (current && current.pid !== pid) return;
  await unlink(routerInfoPath(paths)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** The recorded router when its process is still alive, else null (missing, corrupt or stale). */
export async function readLiveRouterInfo(paths: LabPaths): Promise<RouterInfo | null> {
  const info = await readJsonFile(routerInfoPath(paths), routerInfoSchema).catch(() => undefined);
  if (!info || !processIsAlive(info.pid)) return null;
  return info;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
