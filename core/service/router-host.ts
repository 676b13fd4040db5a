/**
 * One router per home (docs/design.md section 8): starts a `LabService`'s router unless this home's
 * router already runs, and records it in `state/router.json` for every client. Used by
 * `codex-lab serve` and by the desktop app, so both obey the same rule and both are found.
 * The check, the listen and the record happen under the home's `router` lock, so two hosts
 * starting at once cannot both win.
 */
import { stat } from 'node:fs/promises';
import { LabError } from '../errors.ts';
import { readJsonFile } from '../home/files.ts';
import { lockHolder, withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { labVersion } from '../version.ts';
import type { RouterCloseOptions } from '../proxy/server.ts';
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
  /**
   * Stops the router and removes `state/router.json`; with `drain`, requests in flight first get
   * `drain.drainMs` to finish (see `RouterCloseOptions`).
   */
  stop(drain?: RouterCloseOptions): Promise<void>;
}

/** The sentence for a home whose router already runs. */
export function routerRunningMessage(
  found: Extract<RouterDiscovery, { state: 'running' }>,
): string {
  const who = found.info.host === 'app' ? 'the Codex Lab app' : 'codex-lab serve';
  return `A Codex Lab router already runs for this home on ${found.url} (${who}, pid ${found.info.pid}): use it, or stop it with codex-lab stop.`;
}

/** Where a router was asked to listen, and what the user can change: for a failure's advice. */
export interface ListenTarget {
  host: string;
  port: number;
  /** How to choose another port, e.g. `set CODEX_LAB_PORT to a free port`. */
  portAdvice: string;
  /** How to choose another address, e.g. `give --host an address of this machine`. */
  hostAdvice: string;
}

/** The advice when the caller names none: the desktop app's port comes from the environment, its host is fixed. */
const defaultAdvice = {
  portAdvice: 'set CODEX_LAB_PORT to a free port',
  hostAdvice: "check that this machine's loopback address 127.0.0.1 is up",
};

/**
 * The one sentence for a router that could not listen, naming the host and port asked for and
 * what to change; null when `error` is not a failure to listen (a bug, or an expected failure
 * already worded). Every operating-system error of the listen (`listen`, `bind`, the host name's
 * lookup) gets one, so none reaches the user as a stack trace.
 */
export function listenFailure(error: unknown, target: ListenTarget): LabError | null {
  const system = error as NodeJS.ErrnoException & { address?: string };
  if (!(error instanceof Error) || typeof system.code !== 'string') return null;
  const code = system.code;
  if (!['listen', 'bind', 'getaddrinfo'].includes(system.syscall ?? '')) return null;
  const { host, port } = target;
  const where = `port ${port} on ${host}`;
  const cannot = 'so the Codex Lab router cannot listen there';
  const details = { host, port, cause: code };
  if (code === 'EADDRINUSE') {
    return new LabError(
      'port_in_use',
      `Port ${port} on ${host} is already in use by another program, ${cannot}: stop that program, or ${target.portAdvice}.`,
      { cause: error, details },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    const privileged =
      port > 0 && port < 1024 ? '; ports below 1024 need administrator rights' : '';
    return new LabError(
      'io_error',
      `This system does not let Codex Lab listen on ${where} (permission denied${privileged}): ${target.portAdvice}.`,
      { cause: error, details },
    );
  }
  if (system.syscall === 'getaddrinfo') {
    // The host is a name, and looking it up failed: unknown, or the resolver did not answer.
    const what =
      code === 'EAI_AGAIN'
        ? `The name lookup of ${host} did not answer (${code})`
        : `${host} is not a host name this machine can resolve (${code})`;
    return new LabError('invalid_argument', `${what}, ${cannot}: ${target.hostAdvice}.`, {
      cause: error,
      details,
    });
  }
  if (code === 'EADDRNOTAVAIL') {
    // A name may resolve to an address that is not this machine's: both are named.
    const address =
      typeof system.address === 'string' && system.address !== host ? ` (${system.address})` : '';
    return new LabError(
      'invalid_argument',
      `${host}${address} is not an address of this machine, ${cannot}: ${target.hostAdvice}.`,
      { cause: error, details },
    );
  }
  if (code === 'EAFNOSUPPORT') {
    return new LabError(
      'invalid_argument',
      `This machine does not support the kind of address ${host} is (an IPv6 address without IPv6, say), ${cannot}: ${target.hostAdvice}.`,
      { cause: error, details },
    );
  }
  const reason = system.message.replace(/^\w+ /, '');
  return new LabError(
    'io_error',
    `Codex Lab cannot listen on ${where} (${reason}): ${target.hostAdvice}, or ${target.portAdvice}.`,
    { cause: error, details },
  );
}

/**
 * Starts `service`'s router on `port` unless this home's router runs already (then a
 * `router_running` error says where). A port held by another program is `port_in_use`; every
 * other failure to listen is one sentence too (`listenFailure`), naming the host and port asked
 * for and what to change (`portAdvice`, `hostAdvice`: how the caller's user picks them).
 */
export async function startRouterHost(
  service: LabService,
  options: {
    paths: LabPaths;
    port: number;
    host?: string;
    kind: 'serve' | 'app';
    portAdvice?: string;
    hostAdvice?: string;
  },
): Promise<HostedRouter> {
  return withLock(options.paths.locksDir, 'router', async () => {
    const found = await discoverRouter(options.paths);
    if (found.state === 'running')
      throw new LabError('router_running', routerRunningMessage(found));
    if (found.state === 'unreachable') {
      throw new LabError('router_running', `${found.reason}; ${found.advice}.`);
    }
    // Held for the router's whole life: a second router is refused even when state/router.json
    // was deleted or damaged, which discovery alone would take for "no router".
    const run = await holdRunLock(options.paths, found);
    const host = options.host ?? '127.0.0.1';
    let started: { url: string; port: number };
    try {
      started = await service.start({ port: options.port, host, kind: options.kind });
    } catch (error) {
      await service.stop().catch(() => undefined);
      await run.release();
      throw (
        listenFailure(error, {
          host,
          port: options.port,
          portAdvice: options.portAdvice ?? defaultAdvice.portAdvice,
          hostAdvice: options.hostAdvice ?? defaultAdvice.hostAdvice,
        }) ?? error
      );
    }
    const info: RouterInfo = {
      port: started.port,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      version: labVersion,
      host: options.kind,
      // The address bound (a name such as `localhost` resolved), so every client dials the router
      // where it listens (`routerUrl`), not on 127.0.0.1 alone.
      address: new URL(started.url).hostname.replace(/^\[(.*)\]$/, '$1'),
    };
    try {
      await writeRouterInfo(options.paths, info);
    } catch (error) {
      await service.stop().catch(() => undefined);
      await run.release();
      throw error;
    }
    const keeper = keepRouterInfo(options.paths, info, routerInfoCheckMs, (problem) =>
      service.reportRouterRecordProblem(problem),
    );
    return {
      url: started.url,
      port: started.port,
      info,
      async stop(drain) {
        try {
          // Stopped first, and its check in flight awaited: it must not write the file back.
          await keeper.stop();
          await service.stop(drain);
        } finally {
          try {
            await removeRouterInfo(options.paths, process.pid);
          } finally {
            // Whatever happened above, the next router of this home must be able to start.
            await run.release();
          }
        }
      },
    };
  });
}

/** How often a hosted router checks that `state/router.json` still names it. */
export const routerInfoCheckMs = 2_000;

/**
 * How long a client that found the home's router running but not recorded (`router_running`
 * while `state/router.json` is missing or damaged) waits for it to write the file again before
 * giving up: longer than `routerInfoCheckMs`, with room for a busy machine.
 */
export const routerInfoSettleMs = 2 * routerInfoCheckMs + 1_000;

/**
 * Takes the home's `router-run` lock and holds it until `release`. A live holder keeps it (the
 * lock module's rule), a killed one's is cleared at once by the next router.
 */
async function holdRunLock(
  paths: LabPaths,
  found: RouterDiscovery,
): Promise<{ release(): Promise<void> }> {
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
    const who = `A Codex Lab router${pid === null ? '' : ` (pid ${pid})`} already runs for this home`;
    // Said as discovery saw it: a file that names a router where none answers does say where.
    throw new LabError(
      'router_running',
      found.state === 'stale'
        ? `${who}, but it cannot be reached (${found.reason}); try again in a few seconds (codex-lab status), or end that process.`
        : `${who}, though ${routerInfoPath(paths)} does not say where; it writes that file again within a few seconds, so try again then (codex-lab status), or end that process.`,
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
 * `stop` ends the checks and resolves once a check in flight has finished, so the file can then be
 * removed for good. A record it cannot write (a folder in its place) is told to `onProblem` once,
 * in one sentence, and `null` once it is written again. `checkMs` is for tests.
 */
export function keepRouterInfo(
  paths: LabPaths,
  info: RouterInfo,
  checkMs = routerInfoCheckMs,
  onProblem: (problem: string | null) => void = () => undefined,
): { stop(): Promise<void> } {
  let checking: Promise<void> | null = null;
  let stopped = false;
  let reported: string | null = null;
  const report = (problem: string | null) => {
    if (problem === reported) return;
    reported = problem;
    onProblem(problem);
  };
  const timer = setInterval(() => {
    if (checking) return;
    checking = (async () => {
      const path = routerInfoPath(paths);
      const current = await readJsonFile(path, routerInfoSchema).catch(() => undefined);
      // A check that began before `stop` must not bring back a file the router removes on stop.
      if (stopped) return;
      if (current?.pid !== info.pid || current.port !== info.port) {
        try {
          await writeRouterInfo(paths, info);
          report(null);
        } catch (error) {
          // Clients cannot find this router until the file is back: said, never silent.
          const folder = await stat(path).then(
            (found) => found.isDirectory(),
            () => false,
          );
          report(
            folder
              ? `${path} is a folder, not a file, so clients cannot find this router: move that folder away (the router then writes the file again).`
              : `This router cannot record where it listens, so clients cannot find it: ${(error as Error).message}`,
          );
        }
      } else {
        report(null);
      }
    })().finally(() => (checking = null));
  }, checkMs);
  // Never the reason a process stays up.
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await checking;
    },
  };
}
