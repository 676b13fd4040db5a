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
import { isLabError } from '../errors.ts';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import { lockHolder } from '../home/lock.ts';
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

/** What `state/router.json` says: a live router's record, or why it names none (no full stop). */
export type RouterRecord =
  | { ok: true; info: RouterInfo }
  | { ok: false; code: 'missing' | 'unreadable' | 'dead'; message: string };

/** Reads `state/router.json` (see `RouterRecord`); never throws for a missing or damaged file. */
export async function readRouterRecord(paths: LabPaths): Promise<RouterRecord> {
  const path = routerInfoPath(paths);
  let info: RouterInfo | undefined;
  try {
    info = await readJsonFile(path, routerInfoSchema);
  } catch (error) {
    if (!isLabError(error)) throw error;
    // What is wrong, without the file reader's advice: the caller adds the advice that fits.
    const end = error.message.indexOf('. ', error.message.indexOf(path) + path.length);
    const message = end === -1 ? error.message.replace(/\.$/, '') : error.message.slice(0, end);
    return { ok: false, code: 'unreadable', message };
  }
  if (!info) return { ok: false, code: 'missing', message: `${path} does not exist` };
  if (!processIsAlive(info.pid)) {
    return {
      ok: false,
      code: 'dead',
      message: `${path} names pid ${info.pid}, which is no longer running`,
    };
  }
  return { ok: true, info };
}

/** The recorded router when its process is still alive, else null (missing, corrupt or stale). */
export async function readLiveRouterInfo(paths: LabPaths): Promise<RouterInfo | null> {
  const record = await readRouterRecord(paths).catch(() => null);
  return record?.ok ? record.info : null;
}

/**
 * The pid of the live process holding this home's `router-run` lock (a router runs, recorded or
 * not), or null when none does. A router holds that lock for its whole life, so this is the truth
 * when `state/router.json` is missing or damaged.
 */
export async function routerRunHolder(paths: LabPaths): Promise<number | null> {
  const pid = await lockHolder(paths.locksDir, 'router-run');
  return pid !== null && processIsAlive(pid) ? pid : null;
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
