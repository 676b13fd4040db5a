/**
 * The operations layer: every state change Codex Lab knows, written once (docs/design.md section 8).
 * Sign-in saved, rename, remove (with or without revoke), use, pin/unpin (with the fallback
 * option), priming on/off, prime, usage refresh. Every surface calls these: the control API (the
 * dashboard, and the CLI while a router runs), the desktop app's IPC, and the CLI directly on the
 * files when no router runs. Each returns one typed `ContractResult` with one error code.
 *
 * What is live (the running router's memory: sessions, cached health and credentials, the quota
 * book) is reached through the `LiveState` port: the router passes its own, the CLI a files-only
 * one (`fileLiveState`). The files are always written first, under their locks, so an operation
 * either fully applies or not at all, whichever process runs it.
 */
import { stat } from 'node:fs/promises';
import type { TokenManager } from '../auth/token-manager.ts';
import type { FetchLike } from '../auth/http.ts';
import { codexClientHeaders } from '../auth/codex-identity.ts';
import type { LabConfig } from '../config.ts';
import { isLabError, LabError, toResult } from '../errors.ts';
import { isStandingFailure } from '../format.ts';
import type { LabPaths } from '../home/paths.ts';
import { PendingWork, type ActivityRecorder, type Clock, type Logger } from '../ports.ts';
import { accountStamp, accountStamps, type AccountIdentity } from '../profiles/account-stamp.ts';
import { isAutoName, readNewProfileName } from '../profiles/names.ts';
import {
  canonicalRepoPath,
  describeRepoSubfolder,
  enclosingRepository,
} from '../profiles/repo-path.ts';
import type { PinChange, ProfileStore } from '../profiles/store.ts';
import type { BoundaryWarn } from '../quota/bounds.ts';
import { readUsage, type UsageCredentialSource } from '../quota/usage-client.ts';
import type { PrimeRefusal } from '../priming/scheduler.ts';
import { createWorkspaceRoutes, type WorkspaceRoutes } from '../net/workspace-routing.ts';
import { fetchUntilStop, throwIfStopped } from '../net/stop-signal.ts';
import { applyReading } from '../quota/limit-marks.ts';
import type { HealthStore } from '../state/health-store.ts';
import type { QuotaSnapshot } from '../state/schema.ts';
import type {
  ContractResult,
  Inputs,
  PinResult,
  PrimingOutcomeView,
  UnreadProfileView,
  UsageRefreshView,
} from './contract.ts';
import { primingActivityMessage } from './events.ts';
import { moveProfileState } from './profile-state.ts';
import type { QuotaKeeper } from './quota-keeper.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** What an operation may need to tell the live state (the router's memory). */
export interface LiveState {
  /**
   * The registry or health files changed: re-read them now, so the operation returns only once the
   * router routes by the new files (a request sent right after `pin` is pinned).
   */
  reload(): Promise<void>;
  /**
   * A profile was renamed (`to`) or removed (`to === null`): move or forget its live state, and
   * re-point a renamed profile's request history.
   */
  renameLive(from: string, to: string | null): Promise<void> | void;
  /** A sign-in was saved for `name`: drop cached credentials and any needs-sign-in mark. */
  signedIn(name: string): void;
  /** A fresh usage read for `name`: record it, and let a healthy read clear a stale mark. */
  usageRead(name: string, snapshot: QuotaSnapshot): Promise<void> | void;
  /**
   * A usage read for `name` was refused even with a freshly refreshed token: counted as the
   * router counts a turn refused so (growing pauses, then "needs sign-in" when it goes on), so
   * background reads stop spending the account's single-use refresh token on every poll.
   */
  usageRefused(name: string, error: LabError): void;
  /** A priming attempt ended. */
  primed(name: string, outcome: PrimingOutcomeView): void;
  /** A priming turn for `name` was refused for its account: marked as a routed turn's refusal. */
  primeRefused(name: string, refusal: PrimeRefusal): void;
  /** Something every surface shows changed. */
  changed(): void;
}

/** What the operations are built from. */
export interface OperationsOptions {
  paths: LabPaths;
  config: LabConfig;
  clock: Clock;
  logger: Logger;
  store: ProfileStore;
  health: HealthStore;
  activity: ActivityRecorder;
  quota: QuotaKeeper;
  tokens: TokenManager;
  live: LiveState;
  /** Credentials for usage reads; default `tokens` (the router passes its short cache). */
  usageCredentials?: UsageCredentialSource;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Out-of-range values in usage answers are dropped and reported here. */
  warn?: BoundaryWarn;
  /**
   * The host's stop signal (read per request: a host started again has a new one). Every outbound
   * request the operations send takes it (a token refresh excepted); an operation it ended
   * writes nothing more and returns `cancelled`. None for a one-shot command.
   */
  stopSignal?: () => AbortSignal;
}

/** How a remove's revoke ended: null when no revoke was asked for. */
export type RevokeResult = 'revoked' | 'skipped' | 'failed';

/**
 * Throws `invalid_argument` for `force` without `revoke`: it only loosens a revoke, and alone a
 * caller may believe it skips a confirmation or forces something else, so nothing is removed.
 * Checked first by `removeProfile` (and by the CLI before it looks the profile up).
 */
export function checkRemoveOptions(input: Inputs['removeProfile']): void {
  if (input.force === true && input.revoke !== true) {
    throw new LabError(
      'invalid_argument',
      '--force only goes with --revoke: it removes the profile even when the issuer did not confirm the revoke; without --revoke, leave it out.',
    );
  }
}

/**
 * Throws `invalid_argument` for a pin to no profile (`null`, or `auto`: the pin is removed) that
 * asks to allow fallback: there is no pinned profile to fall over from, and the request would
 * otherwise be dropped without a word. Checked by `pinSession` and `pinRepo` (and by the CLI
 * before it reads anything).
 */
export function checkPinOptions(input: { profile: string | null; allowFallback?: boolean }): void {
  if (input.allowFallback === true && (input.profile === null || isAutoName(input.profile))) {
    throw new LabError(
      'invalid_argument',
      '--allow-fallback only goes with a profile: pinning to auto removes the pin, so there is nothing to fall over from; leave it out, or pin a profile.',
    );
  }
}

/**
 * The accounts a refresh could not read, each named once: a sentence its builder says names its
 * account (`namedProfile`: "alpha needs a new sign-in …", "The usage endpoint answered 503 for
 * alpha; …") is said as it is; one that does not ("Could not reach the usage endpoint …") is said
 * once for every account it is about, after their names. Never decided by the words: a profile
 * called `usage` is not named by "the usage endpoint".
 */
export function unreadSentence(
  unread: readonly { profile: string; error: Pick<LabError, 'message' | 'namedProfile'> }[],
): string {
  const groups = new Map<string, { who: string[]; named: boolean }>();
  for (const { profile, error } of unread) {
    const group = groups.get(error.message) ?? { who: [], named: true };
    group.who.push(profile);
    group.named &&= error.namedProfile === profile;
    groups.set(error.message, group);
  }
  return [...groups]
    .map(([message, { who, named }]) => (named ? message : `${who.sort().join(', ')}: ${message}`))
    .join(' ');
}

/** Every state change, once. */
export class LabOperations {
  readonly #options: OperationsOptions;
  /** The outbound `fetch`: the given one, ended by the host's stop when there is one. */
  readonly #fetch: FetchLike | undefined;
  /** Operations running now, for the host's stop to wait for (they end at once once it aborts). */
  readonly #running = new PendingWork();
  /**
   * Each profile's workspace routing (net/workspace-routing.ts): one record for everything that
   * sends a profile's turns, the router's and priming's, in this process.
   */
  readonly workspaces: WorkspaceRoutes;

  constructor(options: OperationsOptions) {
    this.#options = options;
    const { stopSignal } = options;
    this.#fetch = stopSignal
      ? fetchUntilStop(options.fetch ?? outboundFetch, stopSignal)
      : options.fetch;
    const credentials = options.usageCredentials ?? options.tokens;
    this.workspaces = createWorkspaceRoutes({
      clock: options.clock,
      baseUrl: options.config.chatGptBaseUrl,
      credentialsOf: (profile) => credentials.getCredentials(profile),
      identity: codexClientHeaders('application/json'),
      ...(this.#fetch ? { fetch: this.#fetch } : {}),
      logger: options.logger,
    });
  }

  /**
   * Resolves once every operation started so far has ended (the host's stop, after aborting its
   * signal, waits for this before its last writes).
   */
  settled(): Promise<void> {
    return this.#running.settled();
  }

  /** `use NAME|auto`: the active profile for new unpinned sessions. */
  async setActive(input: Inputs['setActive']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      await this.#options.store.setActive(input.profile);
      const active = (await this.#options.store.readRegistry()).active;
      this.#options.activity.add(
        'profile',
        active === 'auto' ? null : active,
        `Active profile set to ${active}.`,
      );
      return null;
    });
  }

  /** `rename OLD NEW`: the profile, its health, quota, priming state, sessions and pins. */
  async renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      const from = (await this.#options.store.getProfile(input.from)).name;
      // The new name read as every typed name is (`WORK` is work): its own name in another case
      // is no rename at all.
      const to = readNewProfileName(input.to, []);
      if (to === from) return null;
      // The store moves the registry entry, the auth file or keychain entry and health.json.
      await this.#options.store.rename(from, to);
      await this.#options.live.renameLive(from, to);
      await moveProfileState(this.#options.paths, from, to);
      this.#options.activity.add('profile', to, `Renamed ${from} to ${to}.`);
      return null;
    });
  }

  /**
   * `remove NAME [--revoke [--force]]`: that profile only. With `revoke`, its tokens are revoked
   * at the issuer first and the value says how that ended; an unconfirmed revoke keeps the profile
   * (`upstream_error`) unless `force`.
   */
  async removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: RevokeResult } | null>> {
    return this.#edit(async () => {
      checkRemoveOptions(input);
      const { store } = this.#options;
      const name = (await store.getProfile(input.profile)).name;
      let revoked: RevokeResult | null = null;
      if (input.revoke === true) {
        // Loaded only here: the HTTP client has no business in the other operations' start-up.
        const { revokeProfileTokens, revokeVerdict } = await import('../auth/revoke.ts');
        revoked = await revokeProfileTokens(
          this.#options.config.issuer,
          await store.readAuth(name),
          this.#fetch,
        );
        // A stop cut the revoke short: the profile stays, as the user left it.
        throwIfStopped(this.#stopSignal(), `the removal of ${name}`);
        // A revoke the issuer did not confirm keeps the profile unless forced (one rule).
        revokeVerdict(revoked, name, input.force ?? false);
      }
      await store.remove(name);
      // Awaited: with no router, the removal's journal line is written before the command ends.
      await this.#options.live.renameLive(name, null);
      await moveProfileState(this.#options.paths, name, null);
      this.#options.activity.add(
        'profile',
        name,
        `Removed ${name}${revoked === null ? '' : ` (revoke: ${revoked})`}.`,
      );
      return revoked === null ? null : { revoked };
    });
  }

  /**
   * Pins (or with `profile: null` unpins) a Codex session, by its UUID in any case (kept in lower
   * case). Resolves to the profile the session was pinned to before when the pin moved from it.
   */
  async pinSession(input: Inputs['pinSession']): Promise<ContractResult<PinResult>> {
    return this.#edit(async () => {
      checkPinOptions(input);
      const profile = await this.#profileName(input.profile ?? null);
      const change = await this.#options.store.setPin(
        'session',
        input.sessionId,
        profile,
        input.allowFallback ?? false,
      );
      this.#pinChanged(change, profile, `session ${change.key}`);
      return { replaced: change.replaced };
    });
  }

  /**
   * Pins (or unpins) a repository, under its canonical path (subfolders are covered). Resolves to
   * the profile the repository was pinned to before when the pin moved from it.
   */
  async pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<PinResult>> {
    return this.#edit(async () => {
      checkPinOptions(input);
      const profile = await this.#profileName(input.profile ?? null);
      const path = await canonicalRepoPath(input.path);
      // A pin Codex's reports can never match would be listed and route nothing; an unpin of any
      // folder (deleted since, or pinned before this check) is still allowed.
      if (profile !== null) await checkPinnableRepository(path);
      const change = await this.#options.store.setPin(
        'repo',
        path,
        profile,
        input.allowFallback ?? false,
      );
      this.#pinChanged(change, profile, path);
      return { replaced: change.replaced };
    });
  }

  /**
   * The activity entry of a pin or unpin of `shown`: none for one that changed nothing (a pin made
   * again as it stands, an unpin of no pin); a pin moved from another profile says from which.
   */
  #pinChanged(change: PinChange, profile: string | null, shown: string): void {
    if (!change.changed) return;
    this.#options.activity.add(
      'profile',
      profile,
      profile === null
        ? `Unpinned ${shown}.`
        : `Pinned ${shown} to ${profile}${change.replaced === null ? '' : ` (was ${change.replaced})`}.`,
    );
  }

  /** `priming on|off NAME`. */
  async setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>> {
    return this.#edit(async () => {
      const name = (await this.#options.store.getProfile(input.profile)).name;
      await this.#options.store.setPriming(name, { enabled: input.enabled });
      this.#options.activity.add(
        'prime',
        name,
        `Priming turned ${input.enabled ? 'on' : 'off'} for ${name}.`,
      );
      return null;
    });
  }

  /** `prime NAME`: one priming attempt now, recorded like the timer's. */
  async primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>> {
    return this.#tracked(async () => {
      const entry = await this.#options.store.getProfile(input.profile);
      const name = entry.name;
      const { primeNow } = await import('../priming/scheduler.ts');
      const outcome = await primeNow({
        paths: this.#options.paths,
        profile: name,
        dryRun: input.dryRun ?? false,
        tokens: this.#options.tokens,
        store: this.#options.store,
        health: this.#options.health,
        baseUrl: this.#options.config.chatGptBaseUrl,
        latestQuota: (profile) => this.#options.quota.book.latest(profile),
        onTurnRefused: (profile, refusal) => this.#options.live.primeRefused(profile, refusal),
        workspaces: this.workspaces,
        clock: this.#options.clock,
        logger: this.#options.logger,
        // Its looks are usage reads like any other: recorded, so every surface shows them.
        // (Its account as loaded above: the read loads the list only to find the name after.)
        observeUsage: (profile) =>
          this.readUsage(profile, { resetCredits: false }, profile === name ? entry : undefined),
        ...(this.#fetch ? { fetch: this.#fetch } : {}),
        // A stop ends the attempt at once; the scheduler then records nothing (`cancelled`).
        ...(this.#options.stopSignal ? { signal: this.#options.stopSignal() } : {}),
      });
      // Without a router the figures read go to state/quota.json now, before the command ends.
      const unsaved = await this.#options.quota.flush();
      this.#options.activity.add('prime', name, primingActivityMessage(outcome));
      // "Under way" is no outcome: the attempt under way keeps showing its own.
      if (outcome.underWay !== true) this.#options.live.primed(name, outcome);
      this.#options.live.changed();
      // The same promise as `usage --refresh`: numbers read but not kept fail the command.
      if (unsaved !== null) {
        throw quotaNotSaved(unsaved, `Priming ${name}: ${outcome.outcome}; its quota was read`);
      }
      return outcome;
    });
  }

  /**
   * `usage [NAME] --refresh`: asks the usage endpoint now for one profile or all. The value says,
   * account by account, which were read and which could not be, each with its own failure. An
   * account that cannot be read because of the state it is in (`isStandingFailure`: it needs a
   * sign-in, its tokens cannot be read) is no failure of the refresh: its status says so on every
   * surface. A read that failed for another reason (the network, the upstream) fails the refresh
   * as a whole (`upstream_error`, naming those accounts once each), so a refresh never looks
   * successful while an account shows numbers it could have read; so do numbers read but not kept.
   * The live state reads the files again first, so every surface agrees with what was read.
   */
  async refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<UsageRefreshView>> {
    return this.#tracked(async () => {
      const { store } = this.#options;
      // The reads below take each account's files as they are now: so does the state this answer
      // goes with, not the last the file watcher saw (an auth file mended a moment ago).
      await this.#options.live.reload();
      // The profiles as loaded here: each read takes its account from this load, not another.
      const profiles = input.profile
        ? [await store.getProfile(input.profile)]
        : await store.listProfiles();
      const names = profiles.map((profile) => profile.name);
      const outcomes = await Promise.all(
        profiles.map(
          async (profile): Promise<{ view: UnreadProfileView; error: LabError } | null> => {
            const name = profile.name;
            try {
              await this.readUsage(name, {}, profile);
              return null;
            } catch (error) {
              if (!isLabError(error)) throw error;
              const view: UnreadProfileView = {
                profile: name,
                ok: false,
                code: error.code,
                message: error.message,
                ...(error.fix ? { fix: error.fix } : {}),
              };
              return { view, error };
            }
          },
        ),
      );
      // Reads a stop ended are no failure of the accounts: the refresh as a whole was cancelled,
      // and writes nothing (the stop's own last write keeps what was read before it).
      throwIfStopped(this.#stopSignal(), 'the usage refresh');
      const unsaved = await this.#options.quota.flush();
      this.#options.live.changed();
      const unread = outcomes.filter((outcome) => outcome !== null);
      const failed = unread.filter((outcome) => !isStandingFailure(outcome.error));
      if (failed.length > 0) throw refreshFailure(failed);
      // A refresh promises the numbers are kept: read but not on file is a failure, said so.
      const refreshed = names.filter((_, index) => outcomes[index] === null);
      if (unsaved !== null) {
        // Nothing read (a home that cannot take the refresh lock either): the file's own problem
        // is all there is to say, never "read, but not saved".
        if (refreshed.length === 0 && isLabError(unsaved)) throw unsaved;
        throw quotaNotSaved(unsaved, 'The quota was read');
      }
      return {
        refreshed,
        unread: unread.map((outcome) => outcome.view),
      };
    });
  }

  /**
   * A sign-in was saved for `profile` (new, or a re-sign-in of a profile that needed one): it is
   * healthy again everywhere at once, and its quota is read right away rather than at the next
   * poll. A failed usage read does not undo the sign-in; it is logged.
   */
  async profileSignedIn(input: { profile: string }): Promise<ContractResult<null>> {
    // The sign-in is saved already: it is said first, whatever the steps below meet.
    this.#options.activity.add('login', input.profile, `Signed in as ${input.profile}.`);
    return this.#edit(async () => {
      const profile = await this.#options.store.getProfile(input.profile);
      const name = profile.name;
      await this.#options.health.markOk(name, this.#options.clock.now());
      this.#options.live.signedIn(name);
      // The live state reads the new sign-in's account before its first figures are recorded:
      // another account that had the name leaves nothing this one would inherit.
      await this.#options.live.reload();
      try {
        await this.readUsage(name, {}, profile);
        await this.#options.quota.flush();
      } catch (error) {
        if (!isLabError(error)) throw error;
        this.#options.logger.warn(
          { profile: name, code: error.code },
          'could not read the quota right after the sign-in',
        );
      }
      return null;
    });
  }

  /**
   * One usage read for `name`, recorded in the live state (and, through it, the files): the one
   * path of every usage read, priming's included. `resetCredits: false` reads the windows only
   * (priming's looks); reset credits known from an earlier read are then kept. `profile`: the
   * profile as the caller's operation loaded it, so its account is taken from that load rather
   * than from another (without it, the profile list is loaded for it).
   */
  async readUsage(
    name: string,
    settings: { resetCredits?: boolean } = {},
    profile?: AccountIdentity,
  ): Promise<QuotaSnapshot> {
    return this.#running.track(this.#readUsage(name, settings, profile));
  }

  async #readUsage(
    name: string,
    settings: { resetCredits?: boolean },
    profile: AccountIdentity | undefined,
  ): Promise<QuotaSnapshot> {
    // The read is the account's, not the name's: who it is, taken before the read, finds the name
    // it has when the figures come back (a rename by another command or surface meanwhile). One
    // load of the profile list each way at most: the caller's, then the one after the read.
    const account = profile === undefined ? await this.#accountOf(name) : accountStamp(profile);
    let snapshot: QuotaSnapshot;
    try {
      snapshot = await readUsage(
        {
          baseUrl: this.#options.config.chatGptBaseUrl,
          credentials: this.#options.usageCredentials ?? this.#options.tokens,
          now: () => this.#options.clock.now(),
          ...(this.#fetch ? { fetch: this.#fetch } : {}),
          ...(this.#options.warn ? { warn: this.#options.warn } : {}),
        },
        name,
        settings,
      );
    } catch (error) {
      // The stop aborted the read: no verdict on the account, nothing to record.
      throwIfStopped(this.#stopSignal(), `the usage read of ${name}`);
      if (isLabError(error) && error.details?.['freshTokenRefused'] === true) {
        this.#options.live.usageRefused(name, error);
      }
      throw error;
    }
    throwIfStopped(this.#stopSignal(), `the usage read of ${name}`);
    const owner = await this.#nameOf(name, account);
    // Removed meanwhile: the figures are no profile's, and nothing is recorded.
    if (owner !== null) await this.#options.live.usageRead(owner, snapshot);
    return snapshot;
  }

  /** The account stamp of the profile `name` now (null: it names no account, or is unread). */
  async #accountOf(name: string): Promise<string | null> {
    const profiles = await this.#options.store.listProfiles().catch(() => null);
    const profile = profiles?.find((entry) => entry.name === name);
    return profile === undefined ? null : accountStamp(profile);
  }

  /**
   * The name the account `account` (read as `name`) has now: `name` while it is still that
   * account's, else the one profile stamped `account` (renamed since); null when no profile is it
   * any more (removed). Without a stamp, or a registry that cannot be read, the name as it was.
   */
  async #nameOf(name: string, account: string | null): Promise<string | null> {
    if (account === null) return name;
    const profiles = await this.#options.store.listProfiles().catch(() => null);
    if (profiles === null) return name;
    const stamps = accountStamps(profiles);
    if (stamps.get(name) === account) return name;
    const owners = [...stamps].filter(([, stamp]) => stamp === account);
    if (owners.length === 1) return owners[0]![0];
    return owners.length === 0 ? null : name;
  }

  /** The host's stop signal now, or undefined without a host. */
  #stopSignal(): AbortSignal | undefined {
    return this.#options.stopSignal?.();
  }

  /** Runs an operation as a `ContractResult`, registered until it ends (see `settled`). */
  #tracked<T>(operation: () => Promise<T>): Promise<ContractResult<T>> {
    return this.#running.track(toResult(operation));
  }

  /** A pin's profile as typed: `auto` is no pin (the router chooses), as it is for `use auto`. */
  async #profileName(name: string | null): Promise<string | null> {
    if (name === null || isAutoName(name)) return null;
    return (await this.#options.store.getProfile(name)).name;
  }

  /** Runs a file edit; the live state re-reads the files and every surface hears of it. */
  async #edit<T>(operation: () => Promise<T>): Promise<ContractResult<T>> {
    return this.#running.track(
      (async () => {
        const result = await toResult(operation);
        await this.#options.live.reload();
        this.#options.live.changed();
        return result;
      })(),
    );
  }
}

/**
 * The live state of a process that runs no router (a CLI command): quota goes to the quota
 * file, health to the health file, a rename to the request journal (`journal`, the home's
 * `state/activity.jsonl`), and nothing else is held in memory.
 */
export function fileLiveState(options: {
  quota: QuotaKeeper;
  health: HealthStore;
  clock: Clock;
  journal?: string;
}): LiveState {
  return {
    async reload() {},
    async renameLive(from, to) {
      if (options.journal === undefined) return;
      // No router writes the journal now: this command adds the rename line itself, so the next
      // router and `codex-lab log` find the profile's past requests under its new name, and a
      // removed one's (`to: null`) under no name a later profile may take.
      const { Journal } = await import('../state/journal.ts');
      // Append only, never the compacting rewrite: a router started meanwhile (by another shell's
      // codex-lab codex) may be appending too, and a rewrite from here would drop its lines.
      const journal = new Journal({
        path: options.journal,
        clock: options.clock,
        capacity: Number.MAX_SAFE_INTEGER,
      });
      if ((await journal.load()).problem !== null) return;
      journal.append({ type: 'rename', from, to, at: options.clock.now() });
      await journal.flush();
    },
    signedIn() {},
    async usageRead(name, snapshot) {
      options.quota.book.observe(name, snapshot);
      options.quota.book.persist();
      // The newest reading of each limit wins (`applyReading`, the verdicts the router applies),
      // weighed against the file as it is under its lock: a mark another process made since this
      // command started is never written over by a stale copy.
      const now = options.clock.now();
      await options.health.change((file) => applyReading(file, name, snapshot, now));
    },
    // A one-shot command reads once and reports the refusal to the user itself.
    usageRefused() {},
    primed() {},
    // No router: no routing to steer; the failed outcome says what happened.
    primeRefused() {},
    changed() {},
  };
}

/** Codes of a state file's own failures (a corrupt or unreadable health.json, quota.json). */
const fileFailureCodes: ReadonlySet<string> = new Set(['corrupt_file', 'io_error']);

/**
 * The failure of a usage refresh some accounts' reads failed for a reason other than their state
 * (`failed`). A state file that does not read or write (health.json cut short) is the file's
 * failure, not the upstream's: said once in its own words, with its own code, not once per
 * account. Only failures of the reads themselves are `upstream_error`, each account named once
 * (`unreadSentence`), followed by any file's sentence.
 */
function refreshFailure(failed: readonly { view: UnreadProfileView; error: LabError }[]): LabError {
  const files = failed.filter(({ error }) => fileFailureCodes.has(error.code));
  const reads = failed.filter(({ error }) => !fileFailureCodes.has(error.code));
  const fileSentences = [...new Set(files.map(({ error }) => error.message))];
  if (reads.length === 0) {
    const first = files[0]!.error;
    return new LabError(first.code, fileSentences.join(' '), {
      cause: first,
      ...(first.details ? { details: first.details } : {}),
    });
  }
  return new LabError(
    'upstream_error',
    [
      unreadSentence(reads.map(({ view, error }) => ({ profile: view.profile, error }))),
      ...fileSentences,
    ].join(' '),
  );
}

/**
 * Quota figures read (`lead` says by what) that `state/quota.json` did not take: the one failure
 * `usage --refresh` and `prime` give for it, naming the file's own problem.
 */
function quotaNotSaved(unsaved: unknown, lead: string): LabError {
  return new LabError(
    isLabError(unsaved) ? unsaved.code : 'io_error',
    `${lead}, but could not be saved: ${(unsaved as Error).message}`,
    { cause: unsaved },
  );
}

/**
 * Refuses a repo pin on a path Codex never reports: one that is not a folder (a typo), or a
 * folder inside a repository holding none of its own (Codex names the repository's own folder:
 * `enclosingRepository`, the one rule `codex-lab pins` warns by). A folder holding repositories
 * is allowed: it covers the repositories in it.
 */
async function checkPinnableRepository(path: string): Promise<void> {
  if (!(await isFolder(path))) {
    throw new LabError(
      'invalid_argument',
      `${path} is not a folder on this machine: give the path of a repository folder (Codex runs in it or in a folder inside it).`,
    );
  }
  const repository = await enclosingRepository(path);
  if (repository === null) return;
  throw new LabError(
    'invalid_argument',
    `${describeRepoSubfolder(path, repository)}: pin ${repository} instead.`,
  );
}

/** True when `path` is a folder. */
async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
