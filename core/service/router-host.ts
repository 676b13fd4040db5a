/**
 * One router per home (docs/design.md section 8): starts a `LabService`'s router unless this home's
 * router already runs, and records it in `state/router.json` for every client. Used by
 * `codex-lab serve` and by the desktop app, so both obey the same rule and both are found.
 * The check, the listen and the record happen under the home's `router` lock, so two hosts
 * starting at once cannot both win.
 */
import { LabError } from '../errors.ts';
import { readJsonFile } from '../home/files.ts';
import { lockHolder, withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { labVersion } from '../version.ts';
import type { LabService } from './lab-service.ts';
import { discoverRouter, type RouterDiscovery } from './router-discovery.ts';
import {
  removeRouterInfo,
  routerInfoPath,
  routerInfoSchema,
  writeRouterInfo,
  type RouterInfo,
} from './router-info.ts';

/** A router this process hosts. */
export interface HostedRouter {
  url: string;
  port: number;
  info: RouterInfo;
  /** Stops the router and removes `state/router.json`. */
  stop(): Promise<void>;
}

/** The sentence for a home whose router already runs. */
export function routerRunningMessage(
  found: Extract<RouterDiscovery, { state: 'running' }>,
): string {
  const who = found.info.host === 'app' ? 'the Codex Lab app' : 'codex-lab serve';
  return `A Codex Lab router already runs for this home on ${found.url} (${who}, pid ${found.info.pid}): use it, or stop it with codex-lab stop.`;
}

/**
 * Starts `service`'s router on `port` unless this home's router runs already (then a
 * `router_running` error says where). A port held by another program is `port_in_use`.
 */
export async function startRouterHost(
  service: LabService,
  options: { paths: LabPaths; port: number; host?: string; kind: 'serve' | 'app' },
): Promise<HostedRouter> {
  return withLock(options.paths.locksDir, 'router', async () => {
    const found = await discoverRouter(options.paths);
    if (found.state === 'running')
      throw new LabError('router_running', routerRunningMessage(found));
    // Held for the router's whole life: a second router is refused even when state/router.json
    // was deleted or damaged, which discovery alone would take for "no router".
    const run = await holdRunLock(options.paths);
    let started: { url: string; port: number };
    try {
      started = await service.start({
        port: options.port,
        host: options.host ?? '127.0.0.1',
        kind: options.kind,
      });
    } catch (error) {
      await service.stop().catch(() => undefined);
      await run.release();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new LabError(
          'port_in_use',
          `Port ${options.port} on 127.0.0.1 is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or set CODEX_LAB_PORT to a free port.`,
        );
      }
      throw error;
    }
    const info: RouterInfo = {
      port: started.port,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      version: labVersion,
      host: options.kind,
    };
    try {
      await writeRouterInfo(options.paths, info);
    } catch (error) {
      await service.stop().catch(() => undefined);
      await run.release();
      throw error;
    }
    const keeper = keepRouterInfo(options.paths, info);
    return {
      url: started.url,
      port: started.port,
      info,
      async stop() {
        keeper.stop();
        try {
          await service.stop();
        } finally {
          await removeRouterInfo(options.paths, process.pid);
          await run.release();
        }
      },
    };
  });
}

/** How often a hosted router checks that `state/router.json` still names it. */
export const routerInfoCheckMs = 2_000;

/**
 * Takes the home's `router-run` lock and holds it until `release`. A live holder keeps it (the
 * lock module's rule), a killed one's is cleared at once by the next router.
 */
async function holdRunLock(paths: LabPaths): Promise<{ release(): Promise<void> }> {
  let acquired!: () => void;
  let failed!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    acquired = resolve;
    failed = reject;
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const held = withLock(
    paths.locksDir,
    'router-run',
    async () => {
      acquired();
      await released;
    },
    { waitMs: 0 },
  );
  held.catch(failed);
  try {
    await ready;
  } catch (error) {
    if (!(error instanceof LabError) || error.code !== 'lock_timeout') throw error;
    const pid = await lockHolder(paths.locksDir, 'router-run');
    throw new LabError(
      'router_running',
      `A Codex Lab router${pid === null ? '' : ` (pid ${pid})`} already runs for this home, though ${routerInfoPath(paths)} does not say where; it writes that file again within a few seconds, so try again then (codex-lab status), or end that process.`,
    );
  }
  return {
    async release() {
      release();
      await held.catch(() => undefined);
    },
  };
}

/**
 * Rewrites `state/router.json` whenever it stops naming this router (deleted, damaged, or
 * overwritten by hand): every client finds the router through it, and `stop` and `status` with it.
 */
function keepRouterInfo(paths: LabPaths, info: RouterInfo): { stop(): void } {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      const current = await readJsonFile(routerInfoPath(paths), routerInfoSchema).catch(
        () => undefined,
      );
      if (current?.pid !== info.pid || current.port !== info.port) {
        await writeRouterInfo(paths, info).catch(() => undefined);
      }
    })().finally(() => (checking = false));
  }, routerInfoCheckMs);
  // Never the reason a process stays up.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
