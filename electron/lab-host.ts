/**
 * The desktop app's host of Codex Lab, as a pure module (no Electron import: tested under Node).
 *
 * One router per home (docs/design.md section 8): when a router already runs for this home (`codex-lab
 * serve`, found through `state/router.json` and its identity answer), the app attaches to it as a
 * client — the tray and the settings page act through its control API and follow its event
 * stream. Otherwise the app hosts the router itself and records it in `state/router.json`, so the
 * CLI and a later `serve` find it. If the attached router goes away, the app takes over; if it
 * freezes (its event stream falls silent), subscribers hear it once (`onOffline`) and the app
 * follows it again as soon as it answers.
 * Start-up failures are `LabError`s with one sentence (a malformed `CODEX_LAB_*` setting, a port
 * held by another program), which main shows in a dialog.
 */
import type { DestinationStream } from 'pino';
import { readConfig } from '../core/config.ts';
import { isLabError, type LabError } from '../core/errors.ts';
import { withoutSentenceEnd } from '../core/format.ts';
import { reportFileWarningsTo } from '../core/home/files.ts';
import { labPaths } from '../core/home/paths.ts';
import { createLogger } from '../core/log.ts';
import { systemClock, type Logger } from '../core/ports.ts';
import type { LabApi, LabState } from '../core/service/contract.ts';
import type { SilenceTimers } from '../core/view-types.ts';
import { LabService } from '../core/service/lab-service.ts';
import { RemoteLab } from '../core/service/remote-lab.ts';
import { discoverRouter } from '../core/service/router-discovery.ts';
import {
  routerInfoSettleMs,
  startRouterHost,
  type HostedRouter,
} from '../core/service/router-host.ts';

/**
 * How long a take-over waits for the stopped router to let go of the home: its stop finishes
 * pending writes (possibly waiting on the registry lock, 15 s at most) before it releases the
 * home's run lock.
 */
const takeOverWaitMs = 20_000;

/** The hosted (or attached) service plus what main needs around it. */
export interface LabHost {
  lab: LabApi;
  /** `hosting`: this app runs the router; `attached`: a running `serve` does. */
  mode(): 'hosting' | 'attached';
  /** The logger the service writes to (secrets scrubbed), for main's own lines. */
  logger: Logger;
  /** The OAuth issuer's origin (its pages may open in the sign-in popup and the browser). */
  issuerOrigin: string;
  /** The router's origin, e.g. `http://127.0.0.1:1456`. */
  routerOrigin(): string;
  /** The web dashboard URL with the token in its fragment (opened in the system browser only). */
  dashboardUrl(): Promise<string | null>;
  /** Stops the router this app hosts; an attached app only detaches (the `serve` keeps running). */
  close(): Promise<void>;
}

/** What the host is built from. */
export interface LabHostOptions {
  env?: NodeJS.ProcessEnv;
  /** Where log lines go (the app's rotating log file); stderr when omitted. */
  logDestination?: DestinationStream;
  /** The built settings page, served as the web dashboard too; null serves none. */
  rendererDir?: string | null;
  /** `codex-lab stop` asked the router this app hosts to stop: quit the app. */
  onStopRequest?: () => void;
  /**
   * Where the host keeps the secrets its log lines are scrubbed of (the router token): given by
   * main, so a start-up failure written after the host has learnt the token is scrubbed of it too.
   */
  secrets?: string[];
  /**
   * The timers an attached app measures the router's silence on (`watchStreamSilence`); the
   * system's when omitted, a fake clock in tests.
   */
  clock?: SilenceTimers;
}

/**
 * What the desktop app adds when the router it follows stops answering: the core's sentence names
 * no way out, and the app's is to keep trying (and to host the router itself if that one stops).
 */
export function desktopOfflineSentence(message: string): string {
  return `${withoutSentenceEnd(message)}. Codex Lab keeps trying to reach it, and runs the router itself if that one stops.`;
}

/** Holds the current `LabApi` (hosted or attached) and moves subscribers when it changes. */
class SwitchableLab implements LabApi {
  #current: LabApi;
  readonly #listeners = new Set<(state: LabState) => void>();
  readonly #offlineListeners = new Set<(message: string) => void>();
  #unsubscribe: () => void = () => {};

  constructor(initial: LabApi) {
    this.#current = initial;
  }

  switchTo(next: LabApi): void {
    this.#unsubscribe();
    this.#current = next;
    this.#follow();
    void next.getState().then(
      (state) => {
        for (const listener of this.#listeners) listener(state);
      },
      () => undefined,
    );
  }

  #follow(): void {
    this.#unsubscribe =
      this.#listeners.size === 0
        ? () => {}
        : this.#current.subscribe(
            (state) => {
              for (const listener of this.#listeners) listener(state);
            },
            (message) => {
              const said = desktopOfflineSentence(message);
              for (const listener of this.#offlineListeners) listener(said);
            },
          );
  }

  /** Stops following the current one (the app is quitting). */
  close(): void {
    this.#listeners.clear();
    this.#offlineListeners.clear();
    this.#unsubscribe();
    this.#unsubscribe = () => {};
  }

  getState(): Promise<LabState> {
    return this.#current.getState();
  }
  subscribe(
    listener: (state: LabState) => void,
    onOffline?: (message: string) => void,
  ): () => void {
    this.#listeners.add(listener);
    if (onOffline) this.#offlineListeners.add(onOffline);
    if (this.#listeners.size === 1) this.#follow();
    return () => {
      this.#listeners.delete(listener);
      if (onOffline) this.#offlineListeners.delete(onOffline);
      if (this.#listeners.size === 0) {
        this.#unsubscribe();
        this.#unsubscribe = () => {};
      }
    };
  }
  setActive: LabApi['setActive'] = (input) => this.#current.setActive(input);
  renameProfile: LabApi['renameProfile'] = (input) => this.#current.renameProfile(input);
  removeProfile: LabApi['removeProfile'] = (input) => this.#current.removeProfile(input);
  startLogin: LabApi['startLogin'] = (input) => this.#current.startLogin(input);
  completeLogin: LabApi['completeLogin'] = (input) => this.#current.completeLogin(input);
  cancelLogin: LabApi['cancelLogin'] = (input) => this.#current.cancelLogin(input);
  setPriming: LabApi['setPriming'] = (input) => this.#current.setPriming(input);
  primeNow: LabApi['primeNow'] = (input) => this.#current.primeNow(input);
  pinSession: LabApi['pinSession'] = (input) => this.#current.pinSession(input);
  pinRepo: LabApi['pinRepo'] = (input) => this.#current.pinRepo(input);
  refreshUsage: LabApi['refreshUsage'] = (input) => this.#current.refreshUsage(input);
}

/**
 * Builds the host: attaches to this home's running router, or starts one (see the module
 * comment). Throws a `LabError` with one sentence when it can do neither.
 */
export async function createLabHost(options: LabHostOptions = {}): Promise<LabHost> {
  const config = readConfig(options.env ?? process.env);
  const paths = labPaths(config.home);
  const secrets = options.secrets ?? [];
  const logger = createLogger({
    level: config.logLevel ?? 'info',
    secrets: () => secrets,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  // A write kept waiting by another program holding its file open (Windows) is said in the log.
  reportFileWarningsTo(logger);
  const issuerOrigin = new URL(config.issuer).origin;

  let hosted: { service: LabService; router: HostedRouter } | null = null;
  let attached: { remote: RemoteLab; url: string } | null = null;
  let closed = false;

  /** Hosts the router, or says (`router_running`) why another one holds this home. */
  let unstarted: { service: LabService } | null = null;
  const host = async (): Promise<LabService | LabError> => {
    if (!unstarted) {
      const service = new LabService({
        paths,
        config,
        clock: systemClock,
        logger,
        rendererDir: options.rendererDir ?? null,
        ...(options.onStopRequest ? { onShutdownRequest: options.onStopRequest } : {}),
        // A token rotated in later (`codex-lab token --rotate`) is scrubbed from the log too.
        onRouterToken: (token) => secrets.push(token),
      });
      await service.routerToken();
      unstarted = { service };
    }
    const { service } = unstarted;
    try {
      const router = await startRouterHost(service, {
        paths,
        port: config.port,
        kind: 'app',
      });
      hosted = { service, router };
      unstarted = null;
      attached = null;
      return service;
    } catch (error) {
      // Another router runs for this home (won the race, not recorded yet, or still stopping):
      // the caller attaches to it once it can. The service, never started, serves the next try.
      if (isLabError(error) && error.code === 'router_running') return error;
      throw error;
    }
  };

  const attach = async (): Promise<RemoteLab | null> => {
    const found = await discoverRouter(paths);
    if (found.state !== 'running') return null;
    secrets.push(found.token);
    const remote = new RemoteLab({
      url: found.url,
      token: found.token,
      // A token rotated while attached (`codex-lab token --rotate`): taken once this router
      // proves it holds it, never sent to whatever else answers on the port.
      rediscover: async () => {
        const again = await discoverRouter(paths);
        if (again.state !== 'running' || again.url !== found.url) return undefined;
        if (!secrets.includes(again.token)) secrets.push(again.token);
        return again.token;
      },
      ...(options.clock ? { clock: options.clock } : {}),
      // The serve it followed stopped or froze: this app follows it again once it answers, or
      // takes over the home's router once it is gone.
      onDisconnect: () => {
        if (!closed) void takeOver();
      },
    });
    attached = { remote, url: found.url };
    return remote;
  };

  /**
   * Attaches to this home's router, or hosts it. While another router holds the home without
   * being found (its `state/router.json` missing or damaged until it writes the file again, or a
   * stopping router still finishing its writes), tries again for up to `waitMs`; then the
   * `router_running` sentence, which names that router's pid, is the error.
   */
  const connect = async (waitMs: number): Promise<LabApi> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const remote = await attach();
      if (remote) return remote;
      const hosted = await host();
      if (!isLabError(hosted)) return hosted;
      if (Date.now() > deadline) throw hosted;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const lab = new SwitchableLab(await connect(routerInfoSettleMs));
  const takeOver = async (): Promise<void> => {
    // The old router needs a moment to remove its router.json and free the port.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A frozen router holds the home for as long as it is stopped, and may wake: keep trying
    // until it answers again or is gone (said once in the log, not every round).
    for (let round = 0; !closed; round++) {
      try {
        const next = await connect(takeOverWaitMs);
        // Quit while it connected: a router hosted meanwhile stops with the app.
        if (closed) await hosted?.router.stop();
        else lab.switchTo(next);
        return;
      } catch (error) {
        if (round === 0) {
          logger.warn({ err: error }, 'the router this app follows does not answer; trying again');
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  return {
    lab,
    mode: () => (hosted ? 'hosting' : 'attached'),
    logger,
    issuerOrigin,
    routerOrigin: () => new URL(hosted?.router.url ?? attached?.url ?? 'http://127.0.0.1').origin,
    async dashboardUrl() {
      const url = hosted?.router.url ?? attached?.url;
      // Asked each time: the token may have been rotated since (`codex-lab token --rotate`).
      const token = hosted
        ? await hosted.service.routerToken()
        : attached
          ? await attached.remote.currentToken()
          : undefined;
      return url && token ? `${url}/ui/#token=${encodeURIComponent(token)}` : null;
    },
    async close() {
      closed = true;
      lab.close();
      await hosted?.router.stop();
    },
  };
}
