/**
 * LabService: the facade and the owner of live state while a router runs (docs/design.md section 8).
 * It holds the router and its engine (sessions, health, quota in memory), sign-ins in progress and
 * the priming timer, and implements `LabApi` for every surface. Every state change is delegated to
 * the operations layer (`operations.ts`), with this service's memory as the `LiveState`; quota
 * persistence and polling live in `quota-keeper.ts`. A debounced file watcher picks up edits made
 * to the files by anything else (a hand edit, an older version), and subscribers hear of every
 * change within a fraction of a second.
 *
 * Effects come in through the constructor (`paths`, `config`, `clock`, `logger`), so Electron's main
 * process can host it in-process and tests can run it against the fake ChatGPT.
 */
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { startLogin, type LoginHandle } from '../auth/browser-login.ts';
import { startDeviceLogin } from '../auth/device-login.ts';
import { healthStatusMessage } from '../auth/constants.ts';
import { TokenManager, tokenSettings } from '../auth/token-manager.ts';
import { defaultHome, type LabConfig } from '../config.ts';
import { isLabError, LabError, toResult } from '../errors.ts';
import type { PrimeRefusal } from '../priming/scheduler.ts';
import { withLabFix } from '../format.ts';
import type { LabPaths } from '../home/paths.ts';
import type { Cancel, Clock, Logger } from '../ports.ts';
import { minute, PendingWork, settledWithin } from '../ports.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import type { KeyringPort } from '../profiles/keyring.ts';
import type { Registry } from '../profiles/schema.ts';
import type { ProfileEntry, ProfileStore } from '../profiles/store.ts';
import { warnOncePerField } from '../quota/bounds.ts';
import { resetSinceRead } from '../quota/quota-book.ts';
import { LabEngine } from '../proxy/lab-engine.ts';
import { RouterTokens } from '../proxy/router-token.ts';
import { codexConfigBlock } from '../proxy/codex-config.ts';
import { annotateCodexConfigBlock } from '../proxy/codex-config-file.ts';
import { PrimingScheduler, type PrimingEvent } from '../priming/scheduler.ts';
import { fetchUntilStop } from '../net/stop-signal.ts';
import {
  createRouterServer,
  type RouteHandler,
  type RouterCloseOptions,
  type RouterServer,
} from '../proxy/server.ts';
import { labVersion } from '../version.ts';
import { HealthStore } from '../state/health-store.ts';
import type { QuotaSnapshot } from '../state/schema.ts';
import type { FailureFix } from '../view-types.ts';
import { unreadableFile } from '../format.ts';
import type {
  ContractResult,
  HostInputs,
  Inputs,
  FileProblemView,
  LabState,
  LoginView,
  PinView,
  PinResult,
  PrimingOutcomeView,
  ProfileView,
  RequestView,
  SessionView,
  ShutdownView,
  TokenRotationView,
  UsageRefreshView,
} from './contract.ts';
import { pinViews } from './pins.ts';
import { createControlApi, createDashboardRoutes, type ControlApiService } from './control-api.ts';
import { ActivityLog, primingActivityMessage } from './events.ts';
import { createIdentityRoute } from './identity.ts';
import { dashboardBuilt, findRendererDir } from './dashboard-files.ts';
import { LabOperations, type LiveState } from './operations.ts';
import { QuotaKeeper, UsagePoller } from './quota-keeper.ts';
import { poolSummaryOf } from './pool-view.ts';
import { buildProfileViews, overlayQuota, type KeptRegistry } from './views.ts';
import { connectJournal } from './activity-journal.ts';
import { DecisionLog } from '../router/decision-log.ts';
import {
  defaultRequestCapacity,
  RequestLog,
  usageTotals,
  type RequestFilter,
} from '../router/request-log.ts';
import { Journal } from '../state/journal.ts';
import { accountStamps } from '../profiles/account-stamp.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** What the service is built from. */
export interface LabServiceOptions {
  paths: LabPaths;
  /** Every `CODEX_LAB_*` setting (`core/config`). */
  config: LabConfig;
  clock: Clock;
  /** The keychain for keyring profiles; default the system keychain. */
  keyring?: KeyringPort;
  logger: Logger;
  /** Default: the global fetch (usage polling). */
  fetch?: typeof fetch;
  /**
   * Built dashboard files; default `config.dashboardDir` (`CODEX_LAB_DASHBOARD_DIR`), else
   * `dist/renderer` of this package. null: none (its `/ui/` says it is not built).
   */
  rendererDir?: string | null;
  /** Opens a sign-in URL (Electron: shell.openExternal or a popup); default: do nothing. */
  openBrowser?: (url: string) => unknown;
  /**
   * How Codex starts `codex-lab` in the settings page's `config.toml` block (see
   * `codexConfigBlock`); default `codex-lab` on PATH.
   */
  codexLauncher?: readonly string[];
  /** Usage polling period; default 7 minutes (plus up to 3 minutes of jitter). 0 turns it off. */
  usagePollMs?: number;
  /**
   * Priming timer's poll and follow-up period; default `config.primingPollMs`
   * (`CODEX_LAB_PRIMING_POLL_MS`, tests and tuning), else the scheduler's own (15 min, 1 min).
   */
  primingPollMs?: number;
  /**
   * Called when a client asks the router to stop (`codex-lab stop`); the host ends its process
   * (serve) or quits (the desktop app). Without it, the request is refused.
   */
  onShutdownRequest?: () => void;
  /**
   * How long the host lets requests in flight finish when it stops on a client's request (serve:
   * `routerDrainMs`; the desktop app quits at once, 0), as `shutdown` tells the client.
   */
  shutdownDrainMs?: number;
  /** Debounce of the file watcher (default 200 ms); 0 turns the watcher off. */
  watchDebounceMs?: number;
  /** How long a rotated-out router token stays accepted (default `routerTokenGraceMs`). */
  routerTokenGraceMs?: number;
  /**
   * Hears every router token the service adopts (at start, and each `rotateRouterToken`), so the
   * host's logger scrubs the new one as well as the old.
   */
  onRouterToken?: (token: string) => void;
}

/** Where `start` listens. */
export interface StartOptions {
  port?: number;
  host?: string;
  /** Who hosts the router, for its identity answer (default `serve`). */
  kind?: 'serve' | 'app';
}

const stateDebounceMs = 150;
/** A profile that served a session request this recently is "serving a live session". */
const liveSessionMs = 5 * minute;
/** How long a stop waits at least for a sign-in past the browser to save its tokens. */
const signInGraceMs = 10_000;

/** The facade every surface uses. */
export class LabService implements ControlApiService {
  readonly #options: LabServiceOptions;
  readonly #paths: LabPaths;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #store: ProfileStore;
  readonly #health: HealthStore;
  readonly #tokens: TokenManager;
  readonly #activity: ActivityLog;
  readonly #engine: LabEngine<ProfileEntry>;
  readonly #decisions = new DecisionLog(500);
  readonly #requests = new RequestLog();
  readonly #journal: Journal;
  #disconnectJournal: (() => void) | null = null;
  #sessionsCancel: Cancel | null = null;
  /** The timer that pushes a fresh state when a failing profile's circuit's time is up. */
  #trialCancel: Cancel | null = null;
  readonly #quotaKeeper: QuotaKeeper;
  readonly #operations: LabOperations;
  readonly #poller: UsagePoller;
  /** File watchers by the folder they watch. */
  readonly #watchers = new Map<string, FSWatcher>();
  #watchCancel: Cancel | null = null;
  readonly #listeners = new Set<(state: LabState) => void>();
  readonly #logins = new Map<string, LoginHandle>();
  /** What a finished sign-in still does (marking it healthy, reading its quota): awaited by stop. */
  readonly #afterSignIns = new PendingWork();
  /**
   * What the service runs on its own and nobody awaits: usage polls, re-reads after a file
   * changed, state builds for subscribers. A stop waits for them before its last writes.
   */
  readonly #background = new PendingWork();
  /**
   * Aborted at the start of a stop (a new one at each start): every outbound request the service
   * sends on its own behalf (usage reads, priming turns, the workspace check) ends with it, so a
   * stop need not wait out their time limits. Token refreshes never take it (see `fetchUntilStop`).
   */
  #stopSignal = new AbortController();
  #router: RouterServer | null = null;
  /**
   * The router while it stops: from the first word of a stop (`shutdown`, `stop`) until it has
   * closed, it still listens (its control API answers, its turns in flight finish) but takes no
   * new turn. `LabState.router` says so, the one place every surface learns it from.
   */
  #stopping: { router: RouterServer | null } | null = null;
  readonly #routerTokens: RouterTokens;
  #notifyCancel: Cancel | null = null;
  #stopped = false;
  /** Why `state/router.json` cannot be written by this router's keeper, or null. */
  #routerRecordProblem: string | null = null;
  #priming: PrimingScheduler | null = null;
  /** The newest priming event per profile, ahead of `state/priming.json`'s background write. */
  readonly #primingLast = new Map<string, PrimingOutcomeView>();
  /** Out-of-range values in usage answers are dropped and logged once per field. */
  readonly #boundaryWarn = warnOncePerField((fields, message) =>
    this.#logger.warn(fields, message),
  );

  constructor(options: LabServiceOptions) {
    this.#options = options;
    this.#paths = options.paths;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: 'service' });
    this.#store = createProfileStore({
      paths: options.paths,
      now: () => options.clock.now(),
      logger: options.logger,
      ...(options.keyring ? { keyring: options.keyring } : {}),
    });
    this.#health = new HealthStore(options.paths);
    this.#routerTokens = new RouterTokens({
      paths: options.paths,
      clock: options.clock,
      ...(options.routerTokenGraceMs === undefined ? {} : { graceMs: options.routerTokenGraceMs }),
      ...(options.onRouterToken ? { onAdopt: options.onRouterToken } : {}),
      onChange: (graceUntil) => {
        // The streams the old token opened are closed when it stops being accepted (they check
        // on every state they send): one state change now, and one when its grace ends.
        if (graceUntil !== null) {
          this.#clock.setTimeout(() => this.#changed(), graceUntil - this.#clock.now());
        }
        this.#changed();
      },
    });
    this.#tokens = new TokenManager({
      paths: options.paths,
      store: this.#store,
      health: this.#health,
      ...tokenSettings(options.config),
      clock: options.clock,
      logger: options.logger,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#activity = new ActivityLog(options.clock);
    this.#quotaKeeper = new QuotaKeeper({
      paths: options.paths,
      clock: options.clock,
      logger: this.#logger,
      accounts: async () => accountStamps(await this.#store.listProfiles()),
    });
    this.#engine = new LabEngine({
      paths: options.paths,
      store: this.#store,
      health: this.#health,
      credentials: this.#tokens,
      activity: this.#activity,
      quota: this.#quotaKeeper.book,
      clock: options.clock,
      logger: options.logger,
      onChange: () => this.#changed(),
      decisions: this.#decisions,
      requests: this.#requests,
    });
    this.#journal = new Journal({
      path: options.paths.activity,
      clock: options.clock,
      logger: this.#logger,
    });
    this.#operations = new LabOperations({
      paths: options.paths,
      config: options.config,
      clock: options.clock,
      logger: this.#logger,
      store: this.#store,
      health: this.#health,
      activity: this.#activity,
      quota: this.#quotaKeeper,
      tokens: this.#tokens,
      live: this.#liveState(),
      warn: (field, value) => this.#boundaryWarn(field, value),
      // The router's short credential cache, and its 401 handling (one refresh, recorded).
      usageCredentials: {
        getCredentials: (name) => this.#engine.credentials(name),
        refreshAfterUnauthorized: (name, rejected) =>
          this.#engine.refreshAfterUnauthorized(name, rejected),
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      stopSignal: () => this.#stopSignal.signal,
    });
    this.#poller = new UsagePoller({
      clock: options.clock,
      periodMs: options.usagePollMs ?? 7 * minute,
      pollOnce: () => this.#background.track(this.#pollOnce(false)),
      nextResetAt: () => this.#quotaKeeper.book.nextReset(options.clock.now()),
      readAfterReset: () => this.#background.track(this.#pollOnce(true)),
    });
  }

  /** The operations layer, with this service's memory as the live state. */
  get operations(): LabOperations {
    return this.#operations;
  }

  /** The upstream base (`CODEX_LAB_CHATGPT_BASE_URL`). */
  get upstreamBaseUrl(): string {
    return this.#options.config.chatGptBaseUrl;
  }

  /** The router's URL once started, else null. */
  get routerUrl(): string | null {
    return this.#router?.url ?? null;
  }

  /** The profile store (for the CLI and Electron's IPC modules). */
  get store(): ProfileStore {
    return this.#store;
  }

  /**
   * The router token in use now, created on first use and replaced by `rotateRouterToken`. Never
   * logged, never in a view.
   */
  async routerToken(): Promise<string> {
    return this.#routerTokens.load();
  }

  /**
   * `codex-lab token --rotate`: writes a new router token (atomic, 0600) and adopts it at once.
   * The old token stays accepted for the grace period, or is refused from now on with
   * `revokeOld`; event streams opened with it close once it is refused.
   */
  async rotateRouterToken(
    input: HostInputs['rotateRouterToken'],
  ): Promise<ContractResult<TokenRotationView>> {
    return toResult(async () => {
      // The state changes it brings (now, and when the old token's grace ends) are the token
      // store's `onChange`, shared with a token file adopted from disk.
      const rotation = await this.#routerTokens.rotate({ revokeOld: input.revokeOld === true });
      return {
        oldAcceptedUntil:
          rotation.graceUntil === null ? null : new Date(rotation.graceUntil).toISOString(),
      };
    });
  }

  /** Starts the router + control API + dashboard, usage polling and priming. */
  async start(options: StartOptions = {}): Promise<{ url: string; port: number }> {
    if (this.#router) return { url: this.#router.url, port: this.#router.port };
    // Loaded (or created) before the router listens: every request is checked against it.
    await this.routerToken();
    if (this.#stopSignal.signal.aborted) this.#stopSignal = new AbortController();
    await this.#engine.load();
    await this.#quotaKeeper.load();
    if (!this.#disconnectJournal) {
      const connected = await connectJournal(this.#journal, {
        activity: this.#activity,
        decisions: this.#decisions,
        requests: this.#requests,
      });
      this.#disconnectJournal = connected.disconnect;
      // Sessions stay on their accounts across a restart: the journal says where each one was.
      this.#engine.restoreSessions(connected.requests);
    }
    const rendererDir = this.#rendererDir();
    const startedAt = new Date(this.#clock.now()).toISOString();
    this.#router = await createRouterServer({
      engine: this.#engine,
      workspaces: this.#operations.workspaces,
      token: this.#routerTokens,
      upstreamBaseUrl: this.upstreamBaseUrl,
      clock: this.#clock,
      logger: this.#options.logger,
      port: options.port ?? this.#options.config.port,
      host: options.host ?? '127.0.0.1',
      compressRequests: this.#options.config.upstreamZstd,
      upstreamWebSocket: this.#options.config.upstreamWebSocket,
      control: createControlApi({ service: this, clock: this.#clock, tokens: this.#routerTokens }),
      publicRoutes: combineRoutes(
        createIdentityRoute(
          () => ({
            version: labVersion,
            pid: process.pid,
            port: this.#servingRouter()?.port ?? 0,
            startedAt,
            home: this.#paths.home,
            host: options.kind ?? 'serve',
            dashboard: dashboardBuilt(rendererDir),
          }),
          () => this.#routerTokens.current(),
        ),
        // Mounted built or not: `/ui/` says it is not built rather than the router's bare 404.
        createDashboardRoutes(rendererDir),
      ),
    });
    this.#stopped = false;
    this.#stopping = null;
    this.#poller.start(20_000);
    this.#startWatching();
    await this.#startPriming();
    this.#changed();
    return { url: this.#router.url, port: this.#router.port };
  }

  /** True when the router has a built dashboard to show at `/ui/` (`dashboardBuilt`). */
  dashboardBuilt(): boolean {
    return dashboardBuilt(this.#rendererDir());
  }

  /** Where the dashboard's files are (or would be, once built); null serves none. */
  #rendererDir(): string | null {
    if (this.#options.rendererDir !== undefined) return this.#options.rendererDir;
    return this.#options.config.dashboardDir ?? findRendererDir();
  }

  /**
   * Requests to the backend the router is answering now (0 with no router), the ones a drain
   * waits for included: a second `codex-lab stop` during the drain says what it still waits for.
   */
  inFlight(): number {
    return this.#servingRouter()?.inFlight() ?? 0;
  }

  /**
   * The router answering for this service: the running one, or the one draining after `stop`
   * detached it (until it has closed); null when none.
   */
  #servingRouter(): RouterServer | null {
    return this.#router ?? this.#stopping?.router ?? null;
  }

  /**
   * Stops everything the service runs. With `drain`, the router first lets the requests it is
   * answering finish (for at most `drain.drainMs`, until `drain.signal` aborts).
   */
  async stop(drain: RouterCloseOptions = {}): Promise<void> {
    this.#stopped = true;
    // Ends every read and priming turn the service sent on its own behalf, at once: the
    // operations and priming it cancels end as `cancelled` and write nothing more.
    this.#stopSignal.abort();
    // No new turn from here on: the ones in flight are all the drain waits for.
    this.#beginStopping();
    // Requests waiting for the next read of the token file are refused, not held on its timer.
    this.#routerTokens.close();
    this.#poller.stop();
    this.#stopWatching();
    this.#notifyCancel?.();
    this.#notifyCancel = null;
    // The drain may take minutes: every surface following the state hears at once that the
    // router is stopping (one state, built now and awaited below with the other background work).
    if (this.#stopping?.router && this.#listeners.size > 0) this.#publish();
    this.#engine.stop();
    for (const login of this.#logins.values()) login.cancel();
    // A sign-in past the browser (its code being exchanged, its tokens being saved) cannot be
    // cancelled and must reach disk before the process goes; so must what follows it. Waited for
    // beside the drain, within its time (at least `signInGraceMs`), until asked again.
    // What follows a sign-in is registered when it ends, so it is looked for after the sign-ins.
    const signIns = Promise.allSettled([...this.#logins.values()].map((login) => login.done)).then(
      () => this.#afterSignIns.settled(),
    );
    const priming = this.#priming;
    priming?.stop();
    this.#priming = null;
    const router = this.#router;
    this.#router = null;
    await Promise.all([
      router?.close(drain),
      settledWithin(
        this.#clock,
        signIns,
        Math.max(drain.drainMs ?? 0, signInGraceMs),
        drain.signal,
      ),
    ]);
    if (this.#stopping) this.#stopping.router = null;
    this.#sessionsCancel?.();
    this.#trialCancel?.();
    // Saved once already: a quit that gives up waiting on this stop (the desktop app waits 10 s,
    // then only for refreshes) keeps the figures and records up to here.
    await Promise.all([this.#quotaKeeper.flush(), this.#journal.flush()]);
    // Work the service started and nobody waits for any more (a poll, a refresh whose request
    // went away, an operation or priming attempt the signal cancelled, which still gives back
    // its claim) ends before the last writes: once stop returns nothing more is written.
    await this.#operations.settled();
    await priming?.settled();
    await this.#background.settled();
    await this.#tokens.settled();
    await this.#engine.settled();
    await this.#quotaKeeper.flush();
    await this.#journal.flush();
    await this.#engine.settled();
  }

  /**
   * Resolves once every priming check, attempt and retry started so far has finished (a test that
   * fires the injected clock's timers waits on this, not on time).
   */
  async primingSettled(): Promise<void> {
    await this.#priming?.settled();
  }

  /**
   * The hosted router's keeper could not write `state/router.json` (`problem`), or can again
   * (null): logged, and listed in `LabState.problems` while it lasts.
   */
  reportRouterRecordProblem(problem: string | null): void {
    if (problem === this.#routerRecordProblem) return;
    this.#routerRecordProblem = problem;
    if (problem === null) this.#logger.info({}, 'state/router.json is written again');
    else this.#logger.warn({}, problem);
    this.#changed();
  }

  async getState(): Promise<LabState> {
    const now = this.#clock.now();
    let profiles: ProfileView[] = [];
    let active = 'auto';
    let pins: PinView[] = [];
    const problems: FileProblemView[] = [];
    const report = (error: Pick<FileProblemView, 'code' | 'message'> & { fix?: FailureFix }) => {
      // A profile whose file holds no tokens shows as "needs sign-in" on its own card.
      if (error.code === 'not_signed_in') return;
      if (!problems.some((problem) => problem.message === error.message)) {
        problems.push({
          code: error.code,
          message: error.message,
          ...(error.fix ? { fix: error.fix } : {}),
        });
      }
    };
    try {
      const registry = await this.#registryShown(report);
      profiles = await buildProfileViews(this.#paths, now, {
        onProblem: report,
        ...(registry.kept ? { registry: registry.kept } : {}),
      });
      active = registry.registry.active;
      pins = pinViews(registry.registry);
    } catch (error) {
      if (!isLabError(error)) throw error;
      this.#logger.warn({ code: error.code }, 'could not build profile views');
      report(error);
    }
    if (this.#routerRecordProblem !== null) {
      problems.push({ code: 'corrupt_file', message: this.#routerRecordProblem });
    }
    for (const view of profiles) {
      this.#mergeLive(view, now);
      // Tokens the router could not read (a keychain found locked is known from its reads only,
      // not from the files the views read) are a problem too, as an unreadable auth file is.
      if (view.status === 'auth_error' && unreadableFile(view.statusCode) && view.statusMessage) {
        report({ code: view.statusCode!, message: view.statusMessage });
      }
    }
    const sessions = this.#engine.sessions();
    this.#scheduleSessionExpiry(sessions, now);
    this.#scheduleTrial(profiles);
    return {
      active,
      problems,
      profiles,
      pool: poolSummaryOf(profiles, active, now, this.#engine.recentBucket()),
      requests: this.#requests.list(200),
      totals: usageTotals(this.#requests.records(), now),
      // A session's stored pin is the truth for its "Pin to…": the live table only learns of a
      // pin on the session's next request.
      sessions: sessions.map((session) => ({
        ...session,
        pinned:
          pins.find((pin) => pin.kind === 'session' && pin.key === session.id)?.profile ?? null,
      })),
      pins,
      decisions: this.#engine.decisions(),
      activity: this.#activity.list(200),
      logins: [...this.#logins.values()].map((login) => login.view()),
      router: this.#routerView(),
      codexConfig: await this.#codexConfig(),
    };
  }

  subscribe(listener: (state: LabState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setActive(input: Inputs['setActive']): Promise<ContractResult<null>> {
    return this.#operations.setActive(input);
  }

  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>> {
    return this.#operations.renameProfile(input);
  }

  removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: 'revoked' | 'skipped' | 'failed' } | null>> {
    return this.#operations.removeProfile(input);
  }

  async startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>> {
    return toResult(async () => {
      // One sign-in at a time: a new one supersedes any still waiting, whose callback listener
      // closes now instead of lingering until its timeout.
      for (const pending of this.#logins.values()) {
        if (pending.view().state === 'waiting') pending.cancel();
      }
      // What the CLI's `login [NAME]` checks before its URL (folders it cannot save in, a profile
      // that cannot take it): nothing is opened that must fail. Add account names a new profile:
      // a name a profile has is said now, under the field, not after a browser sign-in that could
      // only renew that profile.
      await this.#store.precheckSignIn(input.name || null, { newProfile: input.newProfile });
      const handle =
        input.method === 'device'
          ? await this.#startDeviceLogin(input.name ?? null)
          : await startLogin({
              paths: this.#paths,
              issuer: this.#options.config.issuer,
              clock: this.#clock,
              logger: this.#options.logger,
              ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
              profiles: this.#store,
              callbackPort: this.#options.config.callbackPort,
              requestedName: input.name ?? null,
              // Started from the dashboard or the desktop app: the page sends the user back there.
              sayFailure: withLabFix,
              ...(this.#options.openBrowser ? { openBrowser: this.#options.openBrowser } : {}),
              onChange: () => this.#changed(),
            });
      this.#logins.set(handle.id, handle);
      this.#activity.add('login', input.name ?? null, 'Sign-in started.');
      handle.done.then(
        (result) => {
          const name = result.name;
          this.#engine.invalidate();
          if (result.setAside !== null) {
            this.#activity.add(
              'login',
              name,
              `${name}'s auth file could not be read, so it was kept as ${result.setAside} and the new sign-in saved.`,
            );
          }
          // The same operation a CLI sign-in reports: healthy at once, quota read right away, and
          // its one "Signed in as …" entry in the activity (whichever surface signed in).
          if (name) {
            const after = this.#operations.profileSignedIn({ profile: name }).then((outcome) => {
              if (!outcome.ok) {
                this.#options.logger.warn(
                  { profile: name, code: outcome.code },
                  'a saved sign-in could not be marked healthy at once',
                );
              }
            });
            void this.#afterSignIns.track(after);
          } else {
            this.#activity.add('login', null, 'Signed in.');
          }
          this.#changed();
        },
        (error: unknown) => {
          this.#activity.add(
            'login',
            input.name ?? null,
            `Sign-in ended: ${isLabError(error) ? error.message : 'failed'}`,
          );
          this.#changed();
        },
      );
      // Finished sign-ins stay visible for a while, then leave the list.
      void handle.done
        .catch(() => undefined)
        .finally(() => {
          this.#clock.setTimeout(() => {
            this.#logins.delete(handle.id);
            this.#changed();
          }, 2 * minute);
        });
      this.#changed();
      return handle.view();
    });
  }

  async completeLogin(input: Inputs['completeLogin']): Promise<ContractResult<null>> {
    return toResult(async () => {
      const login = this.#logins.get(input.id);
      if (!login) {
        throw new LabError('not_found', 'That sign-in is no longer in progress: start a new one.');
      }
      await login.completeWithUrl(input.callbackUrl);
      this.#changed();
      return null;
    });
  }

  /**
   * A device-code sign-in (the issuer's page takes a one-time code, so the browser may run on any
   * machine), shaped like a browser sign-in's handle so every surface follows it the same way.
   */
  async #startDeviceLogin(requestedName: string | null): Promise<LoginHandle> {
    const device = await startDeviceLogin({
      paths: this.#paths,
      issuer: this.#options.config.issuer,
      clock: this.#clock,
      logger: this.#options.logger,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
      profiles: this.#store,
      requestedName,
    });
    let view: LoginView = {
      id: device.id,
      state: 'waiting',
      method: 'device',
      authorizeUrl: device.verificationUrl,
      userCode: device.userCode,
      proposedName: requestedName,
      profile: null,
      created: null,
      email: null,
      error: null,
    };
    const done = device.done.then(
      (result) => {
        view = {
          ...view,
          state: 'done',
          profile: result.name,
          created: result.created,
          email: result.email,
        };
        return result;
      },
      (error: unknown) => {
        if (isLabError(error)) {
          view = {
            ...view,
            state: error.code === 'auth_cancelled' ? 'cancelled' : 'failed',
            error: { code: error.code, message: error.message },
          };
        }
        throw error;
      },
    );
    done.catch(() => undefined);
    return {
      id: device.id,
      authorizeUrl: device.verificationUrl,
      port: 0,
      done,
      closed: Promise.resolve(),
      cancel: () => device.cancel(),
      completeWithUrl: async () => {
        throw new LabError(
          'invalid_argument',
          'This sign-in uses a one-time code: enter it on the sign-in page; there is no address to paste.',
        );
      },
      view: () => view,
    };
  }

  async cancelLogin(input: Inputs['cancelLogin']): Promise<ContractResult<null>> {
    const login = this.#logins.get(input.id);
    if (!login)
      return {
        ok: false,
        code: 'not_found',
        // The id is not echoed: it is whatever the caller sent.
        message: 'That sign-in is no longer in progress; there is nothing to cancel.',
      };
    login.cancel();
    this.#changed();
    return { ok: true, value: null };
  }

  setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>> {
    return this.#operations.setPriming(input);
  }

  primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>> {
    return this.#operations.primeNow(input);
  }

  pinSession(input: Inputs['pinSession']): Promise<ContractResult<PinResult>> {
    return this.#operations.pinSession(input);
  }

  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<PinResult>> {
    return this.#operations.pinRepo(input);
  }

  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<UsageRefreshView>> {
    return this.#operations.refreshUsage(input);
  }

  profileSignedIn(input: HostInputs['profileSignedIn']): Promise<ContractResult<null>> {
    return this.#operations.profileSignedIn(input);
  }

  async shutdown(_input: HostInputs['shutdown']): Promise<ContractResult<ShutdownView>> {
    const onShutdown = this.#options.onShutdownRequest;
    if (!onShutdown) {
      return {
        ok: false,
        // No fault of the request's: this router runs on, and only its app stops it.
        code: 'router_running',
        message: 'This router is hosted by an app that stops only from its own menu.',
      };
    }
    // No new turn from the moment the answer leaves: the count it gives is all the drain waits
    // for. Answer first, then stop: the client waits for the process to go, as long as the drain.
    this.#beginStopping();
    const inFlight = this.inFlight();
    this.#clock.setTimeout(onShutdown, 0);
    return { ok: true, value: { inFlight, drainMs: this.#options.shutdownDrainMs ?? 0 } };
  }

  /** Asks the usage endpoint for one profile now and records the snapshot. */
  fetchUsage(name: string): Promise<QuotaSnapshot> {
    return this.#operations.readUsage(name);
  }

  /** The per-request log, filtered, for `GET /lab/v1/requests` (and `codex-lab codex`'s exit line). */
  async getRequests(filter: RequestFilter): Promise<RequestView[]> {
    return this.#requests.list(defaultRequestCapacity, filter);
  }

  /** Stored pins, for `GET /lab/v1/pins`. */
  async getPins(): Promise<unknown> {
    const registry = await this.#store.readRegistry();
    return { sessions: registry.pins.sessions, repos: registry.pins.repos };
  }

  /** Priming settings and outcomes per profile, for `GET /lab/v1/priming`. */
  async getPriming(): Promise<unknown> {
    const views = await buildProfileViews(this.#paths, this.#clock.now());
    return views.map((view) => ({
      profile: view.name,
      enabled: view.priming,
      last: view.primingLast,
    }));
  }

  /**
   * The registry the surfaces show: the file's, or, while it cannot be read, the copy the router
   * still routes with (reported with the file's problem, so nobody is told there are no
   * profiles while turns are being served). Throws the file's error when there is no such copy.
   */
  async #registryShown(
    report: (error: LabError) => void,
  ): Promise<{ registry: Registry; kept?: KeptRegistry }> {
    try {
      return { registry: await this.#store.readRegistry() };
    } catch (error) {
      const kept = this.#engine.routedRegistry();
      if (!isLabError(error) || kept.registry === null || kept.profiles.length === 0) throw error;
      const names = kept.profiles.map((entry) => entry.name).join(', ');
      report(
        new LabError(
          error.code,
          `${error.message} Until then the router routes with the last good copy it read (${names}).`,
          error.details === undefined ? {} : { details: { ...error.details } },
        ),
      );
      return { registry: kept.registry, kept: { registry: kept.registry, entries: kept.profiles } };
    }
  }

  #mergeLive(view: ProfileView, now: number): void {
    const live = this.#engine.health(view.name);
    const skipped = this.#engine.skippedUntil(view.name);
    if (skipped === null) delete view.skippedUntil;
    else view.skippedUntil = new Date(skipped).toISOString();
    const failingSince = this.#engine.failingSince(view.name);
    if (failingSince === null) delete view.failingSince;
    else view.failingSince = new Date(failingSince).toISOString();
    // The router's marks are newer than the files' (it writes health.json after it acts, and reads
    // what others write within a second), so they win: a limit its latest usage read lifted or
    // made (`noteUsage`; `usage --refresh` asks right after its read, before health.json is
    // written) shows as routing holds it, with the numbers overlaid below from the same memory.
    // A needs-sign-in the files show (an auth file the views found unreadable) stays, and so does
    // an `ok` the files have and the router has not heard of yet.
    if (view.status !== 'auth_error' && live.status !== 'unknown') {
      view.status = live.status;
      view.statusMessage = healthStatusMessage(view.name, live);
      if (live.code === null) delete view.statusCode;
      else view.statusCode = live.code;
      view.unavailableUntil =
        live.unavailableUntil === null ? null : new Date(live.unavailableUntil).toISOString();
    }
    overlayQuota(view, {
      snapshot: this.#engine.quota(view.name),
      history: this.#quotaKeeper.book.history(view.name),
      forecast: this.#quotaKeeper.book.forecast(view.name, now),
    });
    const primed = this.#primingLast.get(view.name);
    if (primed && (!view.primingLast || primed.at >= view.primingLast.at)) {
      view.primingLast = primed;
    }
  }

  /** The router's memory as the operations layer sees it. */
  #liveState(): LiveState {
    return {
      reload: () => this.#engine.reloadNow(),
      renameLive: (from, to) => {
        const primed = this.#primingLast.get(from);
        this.#primingLast.delete(from);
        if (primed && to !== null) this.#primingLast.set(to, primed);
        this.#engine.renameLive(from, to);
      },
      signedIn: (name) => this.#engine.signedIn(name),
      usageRead: (name, snapshot) => this.#engine.noteUsage(name, snapshot),
      usageRefused: (name, error) => this.#engine.noteUsageRefused(name, error),
      primed: (name, outcome) => this.#primingLast.set(name, outcome),
      primeRefused: (name, refusal) => this.#primeRefused(name, refusal),
      changed: () => this.#changed(),
    };
  }

  /**
   * Watches the registry, the legacy auth file, the profile folders, health.json, quota.json and
   * the router token: an edit by any other program is read within the debounce, not at the next
   * request or poll, and a state file moved aside (as a corrupt one's error says to) is written
   * again from memory.
   * Each profile folder is watched too (a folder watch does not see files inside its subfolders),
   * so an auth.json broken, mended or copied in shows on every surface within the debounce.
   */
  #startWatching(): void {
    const debounceMs = this.#options.watchDebounceMs ?? 200;
    if (debounceMs <= 0) return;
    const watched: Array<[folder: string, names: Set<string> | null]> = [
      [this.#paths.home, new Set(['auth-profiles.json', 'auth.json'])],
      [this.#paths.stateDir, new Set(['health.json', 'quota.json', 'router-token'])],
      [this.#paths.profilesDir, null],
    ];
    const onEvent = (names: Set<string> | null) => (_event: string, file: string | null) => {
      if (names !== null && file !== null && !names.has(file)) return;
      // The router writes quota.json about once a second and never reads it back: only its
      // disappearance matters here.
      if (file === 'quota.json' && existsSync(this.#paths.quota)) return;
      if (this.#watchCancel || this.#stopped) return;
      // File events arrive in real time, so the debounce runs on a real (unref'd) timer; the
      // injected clock drives the domain's schedules, which a burst of writes must not shift.
      const timer = setTimeout(() => {
        this.#watchCancel = null;
        if (this.#stopped) return;
        // A folder made or removed since: watch what is there now, before reading it.
        watchFolders();
        // A router token file changed behind the router (a rotation that found it not answering,
        // a restore): adopted now, so the identity it proves is the file's again at once.
        void this.#background.track(
          this.#routerTokens
            .adoptStored()
            .catch((error: unknown) =>
              this.#logger.warn({ err: error }, 'could not re-read the router token file'),
            ),
        );
        void this.#background.track(
          this.#engine
            .reloadNow()
            .then(() => this.#rewriteMissingStateFiles())
            .catch((error: unknown) =>
              this.#logger.warn({ err: error }, 'could not re-read the files after a change'),
            ),
        );
      }, debounceMs);
      timer.unref();
      this.#watchCancel = () => clearTimeout(timer);
    };
    const watchOne = (folder: string, names: Set<string> | null): void => {
      if (this.#watchers.has(folder)) return;
      try {
        const watcher = watch(folder, { persistent: false }, onEvent(names));
        watcher.on('error', () => {
          watcher.close();
          this.#watchers.delete(folder);
        });
        this.#watchers.set(folder, watcher);
      } catch {
        // A folder that does not exist yet (no profile saved): the registry and auth-profiles
        // watches cover it, and it is watched once it appears.
      }
    };
    const profileFiles = new Set(['auth.json']);
    const watchFolders = (): void => {
      if (this.#stopped) return;
      for (const [folder, names] of watched) watchOne(folder, names);
      let present: string[] = [];
      try {
        present = readdirSync(this.#paths.profilesDir, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(this.#paths.profilesDir, entry.name));
      } catch {
        // No auth-profiles folder yet.
      }
      for (const folder of present) watchOne(folder, profileFiles);
      for (const [folder, watcher] of this.#watchers) {
        const isProfileFolder = dirname(folder) === this.#paths.profilesDir;
        if (isProfileFolder && !present.includes(folder)) {
          watcher.close();
          this.#watchers.delete(folder);
        }
      }
    };
    watchFolders();
  }

  /**
   * Writes `state/quota.json` and `state/health.json` again from the router's memory when they
   * are missing (moved aside, say), so `codex-lab list`, which reads the files, shows what the
   * router knows rather than "not checked yet" until its next write. A file present, even one
   * that does not parse, is left alone.
   */
  async #rewriteMissingStateFiles(): Promise<void> {
    if (!existsSync(this.#paths.quota)) await this.#quotaKeeper.book.flush();
    await this.#engine.restoreHealthFile();
  }

  #stopWatching(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    this.#watchCancel?.();
    this.#watchCancel = null;
  }

  /** True when `name` served a session request within the last few minutes. */
  #isServingLiveSession(name: string): boolean {
    const now = this.#clock.now();
    return this.#engine
      .sessions()
      .some(
        (session) =>
          session.profile === name && now - Date.parse(session.lastSeenAt) < liveSessionMs,
      );
  }

  #onPrimingEvent(event: PrimingEvent): void {
    const { profile, ...outcome } = event;
    this.#primingLast.set(profile, { ...outcome, at: new Date(outcome.at).toISOString() });
    this.#activity.add('prime', profile, primingActivityMessage(outcome));
    this.#changed();
  }

  /**
   * Sessions idle past the table's TTL leave "Live sessions" even when nothing else changes: one
   * timer at the next expiry pushes a fresh state.
   */
  #scheduleSessionExpiry(sessions: readonly SessionView[], now: number): void {
    this.#sessionsCancel?.();
    this.#sessionsCancel = null;
    if (sessions.length === 0 || this.#stopped || this.#listeners.size === 0) return;
    const oldest = Math.min(...sessions.map((session) => Date.parse(session.lastSeenAt)));
    const delay = Math.max(1000, oldest + this.#engine.sessionTtlMs - now + 1000);
    this.#sessionsCancel = this.#clock.setTimeout(() => {
      this.#sessionsCancel = null;
      this.#changed();
    }, delay);
  }

  /**
   * A profile skipped for failing is tried again when its circuit's time is up, whether or not
   * anything else changes: one timer at the earliest such moment pushes a fresh state, so no
   * surface goes on calling it failing (or sends new sessions elsewhere) past it.
   */
  #scheduleTrial(profiles: readonly ProfileView[]): void {
    this.#trialCancel?.();
    this.#trialCancel = null;
    if (this.#stopped || this.#listeners.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const view of profiles) {
      if (view.skippedUntil !== undefined) {
        earliest = Math.min(earliest, Date.parse(view.skippedUntil));
      }
    }
    if (!Number.isFinite(earliest)) return;
    this.#trialCancel = this.#clock.setTimeout(
      () => {
        this.#trialCancel = null;
        this.#changed();
      },
      Math.max(0, earliest - this.#clock.now()) + 1,
    );
  }

  /**
   * Marks the router stopping (once per stop): it refuses new turns from here on, and
   * `LabState.router` says it is stopping until it has closed.
   */
  #beginStopping(): void {
    this.#router?.beginStop();
    this.#stopping ??= { router: this.#router };
    if (!this.#stopped) this.#changed();
  }

  /** `LabState.router`: where the router listens, and whether it is stopping. */
  #routerView(): LabState['router'] {
    const router = this.#servingRouter();
    return {
      url: router?.url ?? '',
      port: router?.port ?? 0,
      running: router !== null,
      stopping: router !== null && this.#stopping !== null,
    };
  }

  #changed(): void {
    // A stopped service builds no more states: a build reads the files, and may replay the
    // journal, which writes; a handler ending during the stop would arm one past it.
    if (this.#notifyCancel || this.#listeners.size === 0 || this.#stopped) return;
    this.#notifyCancel = this.#clock.setTimeout(() => {
      this.#notifyCancel = null;
      this.#publish();
    }, stateDebounceMs);
  }

  /** Builds the state now and gives it to every listener (tracked: a stop waits for it). */
  #publish(): void {
    void this.#background.track(
      this.getState().then(
        (state) => {
          for (const listener of this.#listeners) listener(state);
        },
        (error: unknown) => this.#logger.warn({ err: error }, 'could not build the state'),
      ),
    );
  }

  /**
   * Reads the usage of every profile whose figures are not fresh; `afterReset`: only of those
   * whose window reset since they were read (the poller calls it just after a reset).
   */
  async #pollOnce(afterReset: boolean): Promise<void> {
    const profiles = await this.#store.listProfiles().catch(() => []);
    for (const profile of profiles) {
      if (this.#stopped) return;
      // A profile marked for a missing auth file heals when the file is back (the engine's
      // reload), not by reading its quota.
      if (this.#engine.health(profile.name).status === 'auth_error') continue;
      // Fresh header snapshots make a poll unnecessary, unless a window reset since.
      const known = this.#engine.quota(profile.name);
      const now = this.#clock.now();
      const stale = known !== null && resetSinceRead(known, now);
      if (afterReset ? !stale : known && !stale && now - known.observedAt < 5 * minute) continue;
      // Its account as this poll loaded it: the read loads the list only to find the name after.
      await this.#operations
        .readUsage(profile.name, {}, profile)
        .catch((error: unknown) =>
          this.#logger.debug(
            { profile: profile.name, code: isLabError(error) ? error.code : 'error' },
            'usage poll failed',
          ),
        );
    }
    await this.#quotaKeeper.flush();
    this.#changed();
  }

  async #startPriming(): Promise<void> {
    const pollMs = this.#options.primingPollMs ?? this.#options.config.primingPollMs ?? undefined;
    const signal = this.#stopSignal.signal;
    this.#priming = new PrimingScheduler({
      paths: this.#paths,
      workspaces: this.#operations.workspaces,
      store: this.#store,
      tokens: this.#tokens,
      health: this.#health,
      baseUrl: this.upstreamBaseUrl,
      // A limited account is skipped on the figures the router holds, without a usage read.
      latestQuota: (name) => this.#quotaKeeper.book.latest(name),
      clock: this.#clock,
      logger: this.#options.logger,
      // Its usage looks are the operations layer's reads: recorded in the live state (every
      // surface shows them), with its 401 policy; they end with the stop, as its turns do.
      observeUsage: (name) => this.#operations.readUsage(name, { resetCredits: false }),
      fetch: fetchUntilStop(this.#options.fetch ?? outboundFetch, () => signal),
      signal,
      ...(pollMs !== undefined
        ? { pollIntervalMs: pollMs, followUpMs: Math.min(pollMs, minute) }
        : {}),
      isServingLiveSession: (name) => this.#isServingLiveSession(name),
      onEvent: (event) => this.#onPrimingEvent(event),
      onTurnRefused: (name, refusal) => this.#primeRefused(name, refusal),
    });
    this.#priming.start();
  }

  /**
   * A priming turn refused for its account goes through the engine's path for a routed turn's
   * refusal: a 429 `usage_limit_reached` limits the account (or only a per-model family) until the
   * reset; a 401 after a refresh counts toward "needs sign-in". So it is not the next pick.
   */
  #primeRefused(name: string, refusal: PrimeRefusal): void {
    if (refusal.status === 429) {
      const limit = this.#engine.classify429(refusal.body, refusal.headers, this.#clock.now());
      if (limit) this.#engine.markLimited(name, limit);
      return;
    }
    this.#engine.noteCredentialFailure(
      name,
      new LabError('unauthorized', `${name}'s priming turn was refused even with a fresh token`),
    );
  }

  async #codexConfig(): Promise<string> {
    const url = this.#router?.url ?? `http://127.0.0.1:${this.#options.config.port}`;
    const home = this.#options.config.home;
    // The snippet is pasted by hand: it says where its top-level lines go (before any table).
    return annotateCodexConfigBlock(
      codexConfigBlock({
        routerUrl: url,
        home: home === defaultHome() ? null : home,
        ...(this.#options.codexLauncher ? { launcher: this.#options.codexLauncher } : {}),
      }),
    );
  }
}

/** Tries each handler in turn (null entries are skipped). */
function combineRoutes(...handlers: Array<RouteHandler | null>): RouteHandler {
  return async (request, response, url) => {
    for (const handler of handlers) {
      if (handler && (await handler(request, response, url))) return true;
    }
    return false;
  };
}
