/**
 * Hosts the service in the main process: builds it from the environment (CODEX_LAB_HOME, the
 * issuer, the upstream) and starts the router, so the tray app is a complete Codex Lab on its own.
 * The service and the secrets it holds stay in main; the renderer gets views over IPC.
 */
import { app } from 'electron';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { LabApi } from '../core/service/contract.ts';
import { readConfig } from '../core/config.ts';
import { labPaths } from '../core/home/paths.ts';
import { createLogger } from '../core/log.ts';
import { systemClock, type Logger } from '../core/ports.ts';
import { LabService } from '../core/service/lab-service.ts';

/** The hosted service plus what main needs around it. */
export interface LabHost {
  lab: LabApi;
  /** The logger the service writes to (secrets scrubbed), for main's own lines. */
  logger: Logger;
  /** The OAuth issuer's origin (its pages may open in the sign-in popup and the browser). */
  issuerOrigin: string;
  /** The router's origin, e.g. `http://127.0.0.1:1456`. */
  routerOrigin(): string;
  /** The web dashboard URL with the token in its fragment (opened in the system browser only). */
  dashboardUrl(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Builds and starts the in-process service (settings from `core/config`). `logDestination` is
 * where log lines go: the app's rotating log file (a GUI process has no usable stderr); stderr
 * when omitted.
 */
export async function createLabHost(
  env: NodeJS.ProcessEnv = process.env,
  logDestination?: DestinationStream,
): Promise<LabHost> {
  const config = readConfig(env);
  let token = '';
  const logger = createLogger({
    level: config.logLevel ?? 'info',
    secrets: () => (token ? [token] : []),
    ...(logDestination ? { destination: logDestination } : {}),
  });
  const service = new LabService({
    paths: labPaths(config.home),
    config,
    clock: systemClock,
    logger,
    // The packaged page lives in the app; the web dashboard serves the same files.
    rendererDir: join(app.getAppPath(), 'dist', 'renderer'),
  });
  token = await service.routerToken();
  const started = await service.start({ port: config.port, host: '127.0.0.1' });
  const issuer = new URL(config.issuer).origin;
  return {
    lab: service,
    logger,
    issuerOrigin: issuer,
    routerOrigin: () => new URL(started.url).origin,
    async dashboardUrl() {
      return `${started.url}/ui/#token=${encodeURIComponent(token)}`;
    },
    close: () => service.stop(),
  };
}
