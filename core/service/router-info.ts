/**
 * `state/router.json`: where the running router for this `CODEX_LAB_HOME` listens (`codex-lab
 * serve`, or the desktop app), so every client finds it — the CLI, `codex-lab codex`, a desktop
 * app started later. Written atomically (0600) once the router listens, removed on a clean
 * shutdown; a file whose process is gone is ignored. A client trusts it only after the router's
 * identity answer (`identity.ts`) proves it holds this home's router token.
 * Kept free of the router and HTTP client so short commands stay fast.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import type { LabPaths } from '../home/paths.ts';

/** `state/router.json`. Fields after `pid` are absent in files written by older versions. */
export const routerInfoSchema = z.object({
  port: z.number().int().min(1).max(65535),
  pid: z.number().int().positive(),
  /** ISO time the router started listening. */
  startedAt: z.string().optional(),
  /** The Codex Lab version of the router. */
  version: z.string().optional(),
  /** Who hosts it: `serve` (headless) or `app` (the desktop app). */
  host: z.enum(['serve', 'app']).optional(),
  /**
   * The address the router listens on (`serve --host`: `127.0.0.1`, `::1`, …). Absent in files
   * written by older versions, which always listened on 127.0.0.1.
   */
  address: z.string().min(1).optional(),
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

/**
 * The URL a client dials for a recorded router: the address it listens on (older files name none:
 * 127.0.0.1), an IPv6 one in brackets. A router listening on every address (`0.0.0.0`, `::`) is
 * dialled on loopback, so the token never leaves this machine. Every client builds it here.
 */
export function routerUrl(info: Pick<RouterInfo, 'port' | 'address'>): string {
  let host = (info.address ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`;
}

/** The recorded router when its process is still alive, else null (missing, corrupt or stale). */
export async function readLiveRouterInfo(paths: LabPaths): Promise<RouterInfo | null> {
  const info = await readJsonFile(routerInfoPath(paths), routerInfoSchema).catch(() => undefined);
  if (!info || !processIsAlive(info.pid)) return null;
  return info;
}

/** True while process `pid` exists (ours or another user's). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
