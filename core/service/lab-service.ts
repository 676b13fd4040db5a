/**
 * LabService: the one facade over profiles, tokens, the router, quota, priming and sign-ins.
 * Every surface (Electron IPC, the control API, the CLI) calls it; it implements `LabApi` with
 * `ContractResult` values and tells subscribers (debounced) when the state changed.
 *
 * Effects come in through the constructor (`paths`, `config`, `clock`, `logger`), so Electron's main
 * process can host it in-process and tests can run it against the fake ChatGPT.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLogin, type LoginHandle } from '../auth/browser-login.ts';
import { startDeviceLogin } from '../auth/device-login.ts';
import { TokenManager } from '../auth/token-manager.ts';
import type { LabConfig } from '../config.ts';
import { isLabError, LabError, toResult } from '../errors.ts';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import type { Cancel, Clock, Logger } from '../ports.ts';
import { minute } from '../ports.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import type { KeyringPort } from '../profiles/keyring.ts';
import type { ProfileStore } from '../profiles/store.ts';
import { canonicalRepoPath } from '../profiles/repo-path.ts';
import { QuotaBook } from '../quota/quota-book.ts';
import { warnOncePerField } from '../quota/bounds.ts';
import { buildUsageRequest, processUsageResponse } from '../quota/usage.ts';
import { LabEngine } from '../proxy/lab-engine.ts';
import { loadOrCreateRouterToken } from '../proxy/router-token.ts';
import { codexConfigBlock } from '../proxy/codex-config.ts';
import { PrimingScheduler, type PrimingEvent } from '../priming/scheduler.ts';
import { createRouterServer, type RouterServer } from '../proxy/server.ts';
import { HealthStore } from '../state/health-store.ts';
import { quotaFileSchema, type QuotaFile, type QuotaSnapshot } from '../state/schema.ts';
import type {
  ContractResult,
  Inputs,
  LabState,
  LoginView,
  PinView,
  PrimingOutcomeView,
  ProfileView,
  RequestView,
  SessionView,
} from './contract.ts';
import { pinViews } from './pins.ts';
import { createControlApi, createDashboardRoutes, type ControlApiService } from './control-api.ts';
import { ActivityLog, primingActivityMessage } from './events.ts';
import { moveProfileState } from './profile-state.ts';
import { poolSummaryOf } from './pool-view.ts';
import { buildProfileViews, quotaExtras, toForecastView } from './views.ts';
import { connectJournal } from './activity-journal.ts';
import { DecisionLog } from '../router/decision-log.ts';
import {
  defaultRequestCapacity,
  RequestLog,
  usageTotals,
  type RequestFilter,
} from '../router/request-log.ts';
import { Journal } from '../state/journal.ts';

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
  /** Built dashboard files; default `dist/renderer` of this package when present. */
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
}

/** Where `start` listens. */
export interface StartOptions {
  port?: number;
  host?: string;
}

const stateDebounceMs = 150;
/** A profile that served a session request this recently is "serving a live session". */
const liveSessionMs = 5 * minute;

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
  readonly #engine: LabEngine;
  readonly #quota: QuotaBook;
  readonly #decisions = new DecisionLog(500);
  readonly #requests = new RequestLog();
  readonly #journal: Journal;
  #disconnectJournal: (() => void) | null = null;
  #sessionsCancel: Cancel | null = null;
  readonly #listeners = new Set<(state: LabState) => void>();
  readonly #logins = new Map<string, LoginHandle>();
  #router: RouterServer | null = null;
  #token: string | null = null;
  #notifyCancel: Cancel | null = null;
  #pollCancel: Cancel | null = null;
  #stopped = false;
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
      ...(options.keyring ? { keyring: options.keyring } : {}),
    });
    this.#health = new HealthStore(options.paths);
    this.#tokens = new TokenManager({
      paths: options.paths,
      store: this.#store,
      health: this.#health,
      issuer: options.config.issuer,
      clock: options.clock,
      logger: options.logger,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#activity = new ActivityLog(options.clock);
    this.#quota = new QuotaBook({
      clock: options.clock,
      path: options.paths.quota,
      logger: this.#logger,
      write: (path, value) => this.#writeQuotaFile(path, value as QuotaFile),
    });
    this.#engine = new LabEngine({
      paths: options.paths,
      store: this.#store,
      health: this.#health,
      credentials: this.#tokens,
      activity: this.#activity,
      quota: this.#quota,
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

  /** The router token, created on first use. Never logged, never in a view. */
  async routerToken(): Promise<string> {
    this.#token ??= await loadOrCreateRouterToken(this.#paths);
    return this.#token;
  }

  /** Starts the router + control API + dashboard, usage polling and priming. */
  async start(options: StartOptions = {}): Promise<{ url: string; port: number }> {
    if (this.#router) return { url: this.#router.url, port: this.#router.port };
    const token = await this.routerToken();
    await this.#engine.load();
    await this.#loadQuota();
    if (!this.#disconnectJournal) {
      const connected = await connectJournal(this.#journal, {
        activity: this.#activity,
        decisions: this.#decisions,
        requests: this.#requests,
      });
      this.#disconnectJournal = connected.disconnect;
    }
    const rendererDir =
      this.#options.rendererDir === undefined ? findRendererDir() : this.#options.rendererDir;
    this.#router = await createRouterServer({
      engine: this.#engine,
      token,
      upstreamBaseUrl: this.upstreamBaseUrl,
      clock: this.#clock,
      logger: this.#options.logger,
      port: options.port ?? this.#options.config.port,
      host: options.host ?? '127.0.0.1',
      compressRequests: this.#options.config.upstreamZstd,
      control: createControlApi({ service: this, clock: this.#clock }),
      ...(rendererDir ? { publicRoutes: createDashboardRoutes(rendererDir) } : {}),
    });
    this.#stopped = false;
    this.#schedulePoll(20_000);
    await this.#startPriming();
    this.#changed();
    return { url: this.#router.url, port: this.#router.port };
  }

  /** Stops everything started by `start`, and cancels sign-ins in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pollCancel?.();
    this.#notifyCancel?.();
    for (const login of this.#logins.values()) login.cancel();
    await this.#priming?.stop();
    this.#priming = null;
    const router = this.#router;
    this.#router = null;
    await router?.close();
    this.#sessionsCancel?.();
    await this.#quota.flush();
    await this.#journal.flush();
    await this.#engine.settled();
  }

  async getState(): Promise<LabState> {
    const now = this.#clock.now();
    let profiles: ProfileView[] = [];
    let active = 'auto';
    let pins: PinView[] = [];
    try {
      profiles = await buildProfileViews(this.#paths, now);
      const registry = await this.#store.readRegistry();
      active = registry.active;
      pins = pinViews(registry);
    } catch (error) {
      if (!isLabError(error)) throw error;
      this.#logger.warn({ code: error.code }, 'could not build profile views');
    }
    for (const view of profiles) this.#mergeLive(view, now);
    const sessions = this.#engine.sessions();
    this.#scheduleSessionExpiry(sessions, now);
    return {
      active,
      profiles,
      pool: poolSummaryOf(profiles, active, now),
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
      router: {
        url: this.#router?.url ?? '',
        port: this.#router?.port ?? 0,
        running: this.#router !== null,
      },
      codexConfig: await this.#codexConfig(),
    };
  }

  subscribe(listener: (state: LabState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async setActive(input: Inputs['setActive']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      await this.#store.setActive(input.profile);
      this.#activity.add(
        'profile',
        input.profile === 'auto' ? null : input.profile,
        `Active profile set to ${input.profile}.`,
      );
    });
  }

  async renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      const from = (await this.#store.getProfile(input.from)).name;
      await this.#store.rename(from, input.to);
      await this.#health.forget(from, input.to);
      await this.#moveLocalState(from, input.to);
      this.#activity.add('profile', input.to, `Renamed ${input.from} to ${input.to}.`);
    });
  }

  async removeProfile(input: Inputs['removeProfile']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      if (input.revoke) {
        const { revokeProfileTokens, revokeVerdict } = await import('../auth/revoke.ts');
        const auth = await this.#store.readAuth(input.profile).catch(() => null);
        if (auth) {
          const outcome = await revokeProfileTokens(
            this.#options.config.issuer,
            auth,
            this.#options.fetch,
          );
          revokeVerdict(outcome, input.profile, input.force ?? false);
        }
      }
      const name = (await this.#store.getProfile(input.profile)).name;
      await this.#store.remove(name);
      await this.#health.forget(name);
      await this.#moveLocalState(name, null);
      this.#activity.add('profile', name, `Removed ${name}.`);
    });
  }

  async startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>> {
    return toResult(async () => {
      // One sign-in at a time: a new one supersedes any still waiting, whose callback listener
      // closes now instead of lingering until its timeout.
      for (const pending of this.#logins.values()) {
        if (pending.view().state === 'waiting') pending.cancel();
      }
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
              ...(this.#options.openBrowser ? { openBrowser: this.#options.openBrowser } : {}),
              onChange: () => this.#changed(),
            });
      this.#logins.set(handle.id, handle);
      this.#activity.add('login', input.name ?? null, 'Sign-in started.');
      handle.done.then(
        (result) => {
          const name = result.name;
          this.#activity.add('login', name, `Signed in${name ? ` as ${name}` : ''}.`);
          this.#engine.invalidate();
          if (name) {
            void this.#health.markOk(name, this.#clock.now()).catch(() => undefined);
            // The first usage read right after sign-in: quota, credits and the chart's first
            // point show at once instead of after the next poll.
            void this.fetchUsage(name)
              .then(() => this.#quota.flush())
              .catch((error: unknown) =>
                this.#logger.debug(
                  { profile: name, code: isLabError(error) ? error.code : 'error' },
                  'usage read after sign-in failed',
                ),
              )
              .finally(() => this.#changed());
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
      email: null,
      error: null,
    };
    const done = device.done.then(
      (result) => {
        view = { ...view, state: 'done', profile: result.name, email: result.email };
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
      return { ok: false, code: 'not_found', message: `No sign-in ${input.id} is in progress.` };
    login.cancel();
    this.#changed();
    return { ok: true, value: null };
  }

  async setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      await this.#store.setPriming(input.profile, { enabled: input.enabled });
      this.#activity.add(
        'prime',
        input.profile,
        `Priming turned ${input.enabled ? 'on' : 'off'} for ${input.profile}.`,
      );
    });
  }

  async primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>> {
    return toResult(async () => {
      await this.#store.getProfile(input.profile);
      const runner = await loadPrimeNow();
      if (!runner) {
        throw new LabError('priming_failed', 'Priming is not available in this build yet.');
      }
      const outcome = await runner({
        paths: this.#paths,
        profile: input.profile,
        dryRun: input.dryRun ?? false,
        tokens: this.#tokens,
        store: this.#store,
        health: this.#health,
        baseUrl: this.upstreamBaseUrl,
        clock: this.#clock,
        logger: this.#options.logger,
      });
      this.#activity.add('prime', input.profile, primingActivityMessage(outcome));
      this.#primingLast.set(input.profile, outcome);
      this.#changed();
      return outcome;
    });
  }

  async pinSession(input: Inputs['pinSession']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      await this.#store.setPin('session', input.sessionId, input.profile ?? null);
      this.#activity.add(
        'profile',
        input.profile ?? null,
        input.profile
          ? `Pinned session ${input.sessionId} to ${input.profile}.`
          : `Unpinned session ${input.sessionId}.`,
      );
    });
  }

  async pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      const path = await canonicalRepoPath(input.path);
      await this.#store.setPin('repo', path, input.profile ?? null);
      this.#activity.add(
        'profile',
        input.profile ?? null,
        input.profile ? `Pinned ${path} to ${input.profile}.` : `Unpinned ${path}.`,
      );
    });
  }

  async refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<null>> {
    return toResult(async () => {
      const names = input.profile
        ? [(await this.#store.getProfile(input.profile)).name]
        : (await this.#store.listProfiles()).map((p) => p.name);
      // Failures grouped by reason: one unreachable endpoint is one sentence, not one per profile.
      const failures = new Map<string, string[]>();
      await Promise.all(
        names.map(async (name) => {
          try {
            await this.fetchUsage(name);
          } catch (error) {
            if (!isLabError(error)) throw error;
            failures.set(error.message, [...(failures.get(error.message) ?? []), name]);
          }
        }),
      );
      await this.#quota.flush();
      this.#changed();
      // Profiles that answered are recorded above; the ones that did not are named, so a refresh
      // never looks successful while showing stale numbers.
      if (failures.size > 0) {
        const parts = [...failures].map(([reason, who]) => `${who.sort().join(', ')}: ${reason}`);
        throw new LabError('upstream_error', parts.join(' '));
      }
      return null;
    });
  }

  /** Asks the usage endpoint for one profile now and records the snapshot. */
  async fetchUsage(name: string, retried = false): Promise<QuotaSnapshot> {
    const credentials = await this.#engine.credentials(name);
    const doFetch = this.#options.fetch ?? fetch;
    const request = buildUsageRequest(this.upstreamBaseUrl, credentials);
    let response: Response;
    try {
      response = await doFetch(request.url, {
        headers: request.headers,
        signal: AbortSignal.timeout(20_000),
      });
    } catch (error) {
      const reason = (error as Error & { cause?: { code?: string } }).cause?.code;
      throw new LabError(
        'upstream_unreachable',
        `Could not reach the usage endpoint at ${request.url}${reason ? ` (${reason})` : ''}; check the network connection and try again.`,
      );
    }
    const text = await response.text();
    // One refresh per 401, as Codex does: a second 401 with a fresh token is an upstream
    // problem, and refreshing again would only spend another single-use refresh token.
    if (response.status === 401 && !retried) {
      await this.#engine.refreshAfterUnauthorized(name, credentials.accessToken);
      return this.fetchUsage(name, true);
    }
    if (response.status === 401) {
      throw new LabError(
        'unauthorized',
        `The usage endpoint refused ${name}'s freshly refreshed token; sign in again with: codex-lab login ${name}`,
      );
    }
    if (!response.ok) {
      throw new LabError(
        'upstream_error',
        `The usage endpoint answered ${response.status} for ${name}; try again later.`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LabError(
        'upstream_error',
        `The usage endpoint sent an unexpected answer for ${name}.`,
      );
    }
    const snapshot = processUsageResponse(json, this.#clock.now(), this.#boundaryWarn);
    this.#engine.setQuota(name, snapshot);
    this.#engine.noteTokenWorks(name);
    return snapshot;
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

  async #edit(operation: () => Promise<void>): Promise<ContractResult<null>> {
    const result = await toResult(async () => {
      await operation();
      return null;
    });
    this.#engine.invalidate();
    this.#changed();
    return result;
  }

  #mergeLive(view: ProfileView, now: number): void {
    const live = this.#engine.health(view.name);
    if (
      view.status !== 'auth_error' &&
      (live.status === 'limited' || live.status === 'auth_error')
    ) {
      view.status = live.status;
      view.statusMessage = live.message;
      view.unavailableUntil =
        live.unavailableUntil === null ? null : new Date(live.unavailableUntil).toISOString();
    }
    const quota = this.#engine.quota(view.name);
    const shownAt = view.quota.updatedAt ? Date.parse(view.quota.updatedAt) : 0;
    if (quota && quota.observedAt > shownAt) {
      const window = (w: QuotaSnapshot['primary']) =>
        w && {
          usedPercent: w.usedPercent,
          windowMinutes: w.windowMinutes,
          resetsAt: w.resetsAt === null ? null : new Date(w.resetsAt).toISOString(),
        };
      view.quota = {
        primary: window(quota.primary),
        secondary: window(quota.secondary),
        updatedAt: new Date(quota.observedAt).toISOString(),
      };
      delete view.credits;
      delete view.limits;
      Object.assign(view, quotaExtras(quota));
    }
    // The live book holds the freshest history (the file is written a few seconds later).
    if (quota) {
      view.forecast = toForecastView(this.#quota.forecast(view.name, now));
      const history = this.#quota.history(view.name);
      if (history.length >= view.history.length) {
        view.history = history.map((point) => ({
          at: new Date(point.at).toISOString(),
          primary: point.primary,
          secondary: point.secondary,
        }));
      }
    }
    const primed = this.#primingLast.get(view.name);
    if (primed && (!view.primingLast || primed.at >= view.primingLast.at)) {
      view.primingLast = primed;
    }
  }

  /** Moves (or forgets) a renamed or removed profile's quota, priming, sessions and pins. */
  async #moveLocalState(from: string, to: string | null): Promise<void> {
    const primed = this.#primingLast.get(from);
    this.#primingLast.delete(from);
    if (primed && to !== null) this.#primingLast.set(to, primed);
    this.#engine.renameLive(from, to);
    await moveProfileState(this.#paths, from, to);
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

  #changed(): void {
    if (this.#notifyCancel || this.#listeners.size === 0) return;
    this.#notifyCancel = this.#clock.setTimeout(() => {
      this.#notifyCancel = null;
      void this.getState().then(
        (state) => {
          for (const listener of this.#listeners) listener(state);
        },
        (error: unknown) => this.#logger.warn({ err: error }, 'could not build the state'),
      );
    }, stateDebounceMs);
  }

  // The CLI and the router both write state/quota.json: merge under the lock, and a profile's
  // newer snapshot on disk (another process polled it) is kept.
  async #writeQuotaFile(path: string, book: QuotaFile): Promise<void> {
    await withLock(this.#paths.locksDir, 'quota', async () => {
      const file: QuotaFile = (await readJsonFile(path, quotaFileSchema)) ?? {
        version: 1,
        profiles: {},
      };
      for (const [profile, entry] of Object.entries(book.profiles)) {
        const onDisk = file.profiles[profile]?.latest;
        if (onDisk && entry.latest && onDisk.observedAt > entry.latest.observedAt) continue;
        file.profiles[profile] = entry;
      }
      await writeJsonFile(path, file);
    });
  }

  async #loadQuota(): Promise<void> {
    try {
      const file = await readJsonFile(this.#paths.quota, quotaFileSchema);
      if (file) this.#quota.fromFile(file);
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read saved quota');
    }
  }

  #schedulePoll(delayMs: number): void {
    const period = this.#options.usagePollMs ?? 7 * minute;
    if (period <= 0 || this.#stopped) return;
    this.#pollCancel = this.#clock.setTimeout(() => {
      void this.#pollOnce().finally(() => this.#schedulePoll(period + randomInt(0, 3 * minute)));
    }, delayMs);
  }

  async #pollOnce(): Promise<void> {
    const profiles = await this.#store.listProfiles().catch(() => []);
    for (const profile of profiles) {
      if (this.#stopped) return;
      if (this.#engine.health(profile.name).status === 'auth_error') continue;
      // Fresh header snapshots make a poll unnecessary.
      const known = this.#engine.quota(profile.name);
      if (known && this.#clock.now() - known.observedAt < 5 * minute) continue;
      await this.fetchUsage(profile.name).catch((error: unknown) =>
        this.#logger.debug(
          { profile: profile.name, code: isLabError(error) ? error.code : 'error' },
          'usage poll failed',
        ),
      );
    }
    await this.#quota.flush();
    this.#changed();
  }

  async #startPriming(): Promise<void> {
    const pollMs = this.#options.primingPollMs ?? this.#options.config.primingPollMs ?? undefined;
    this.#priming = new PrimingScheduler({
      paths: this.#paths,
      store: this.#store,
      tokens: this.#tokens,
      health: this.#health,
      baseUrl: this.upstreamBaseUrl,
      clock: this.#clock,
      logger: this.#options.logger,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
      ...(pollMs !== undefined
        ? { pollIntervalMs: pollMs, followUpMs: Math.min(pollMs, minute) }
        : {}),
      isServingLiveSession: (name) => this.#isServingLiveSession(name),
      onEvent: (event) => this.#onPrimingEvent(event),
    });
    this.#priming.start();
  }

  async #codexConfig(): Promise<string> {
    const url = this.#router?.url ?? `http://127.0.0.1:${this.#options.config.port}`;
    return codexConfigBlock({
      routerUrl: url,
      ...(this.#options.codexLauncher ? { launcher: this.#options.codexLauncher } : {}),
    });
  }
}

type PrimeNow = (options: Record<string, unknown>) => Promise<PrimingOutcomeView>;

async function loadPrimeNow(): Promise<PrimeNow | null> {
  try {
    const module = (await import('../priming/scheduler.ts')) as Record<string, unknown>;
    return (module['primeNow'] as PrimeNow | undefined) ?? null;
  } catch {
    return null;
  }
}

/** Finds `dist/renderer` of this package from the source or bundled location. */
function findRendererDir(): string | null {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(folder, 'dist', 'renderer');
    if (existsSync(join(folder, 'package.json'))) return existsSync(candidate) ? candidate : null;
    folder = dirname(folder);
  }
  return null;
}
