/**
 * One router per home (docs/design.md section 8): starts a `LabService`'s router unless this home's
 * router already runs, and records it in `state/router.json` for every client. Used by
 * `codex-lab serve` and by the desktop app, so both obey the same rule and both are found.
 * The check, the listen and the record happen under the home's `router` lock, so two hosts
 * starting at once cannot both win.
 */
import { LabError } from '../errors.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { labVersion } from '../version.ts';
import type { LabService } from './lab-service.ts';
import { discoverRouter, type RouterDiscovery } from './router-discovery.ts';
import { removeRouterInfo, writeRouterInfo, type RouterInfo } from './router-info.ts';

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
    let started: { url: string; port: number };
    try {
      started = await service.start({
        port: options.port,
        host: options.host ?? '127.0.0.1',
        kind: options.kind,
      });
    } catch (error) {
      await service.stop().catch(() => undefined);
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
      throw error;
    }
    return {
      url: started.url,
      port: started.port,
      info,
      async stop() {
        try {
          await service.stop();
        } finally {
          await removeRouterInfo(options.paths, process.pid);
        }
      },
    };
  });
}
