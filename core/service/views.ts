/**
 * Builds the `ProfileView`s every surface shows (and `codex-lab list --json` prints) from the
 * files alone: the registry, each profile's auth.json, and `state/health.json`, `quota.json`,
 * `priming.json`. Kept free of the router and HTTP client so `codex-lab list` starts fast.
 */
import { heldByAnotherAccount } from '../auth/account-check.ts';
import { healthStatusMessage, signInMarkLifted } from '../auth/constants.ts';
import { isLabError, LabError, signInAgainError } from '../errors.ts';
import { readJsonFile } from '../home/files.ts';
import type { LabPaths } from '../home/paths.ts';
import { systemClock, type Clock } from '../ports.ts';
import { accountStamp, stampMatches } from '../profiles/account-stamp.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import { KeychainDeadline } from '../profiles/keychain-deadline.ts';
import { keychainCure, keychainProfileUnreadable, type KeyringPort } from '../profiles/keyring.ts';
import type { ProfileEntry, ProfileStore } from '../profiles/store.ts';
import { readAuthFile } from '../profiles/auth-file.ts';
import type { Registry } from '../profiles/schema.ts';
import { effectiveHealth, familyLimitedUntil, type ProfileHealth } from '../state/health-store.ts';
import { forecastWeekly, type QuotaForecast } from '../quota/forecast.ts';
import { limitFamily, standingHealth } from '../quota/limit-marks.ts';
import { defaultLimitId } from '../quota/headers.ts';
import {
  healthFileSchema,
  primingFileSchema,
  type HealthFile,
  quotaFileSchema,
  type QuotaPoint,
  type QuotaSnapshot,
  type QuotaWindow,
} from '../state/schema.ts';
import type { z } from 'zod';
import type { ForecastView, ProfileView, QuotaWindowView } from '../view-types.ts';

/** Options for `buildProfileViews`. */
export interface BuildViewsOptions {
  /**
   * Receives each file that could not be read (a corrupt auth.json or state file). The views are
   * still built; the affected profile shows `auth_error` with the same message. `profile` names
   * the profile whose own auth file it is (absent for a shared file), so a caller that has named
   * that profile's trouble already can leave it out.
   */
  onProblem?: (error: LabError, profile?: string) => void;
  /**
   * Only these profiles (real names), for a command about named profiles: other profiles' files
   * are not read, so their problems are not this command's. Shared files are still read (and
   * their problems reported).
   */
  only?: readonly string[];
  /**
   * A registry to show instead of reading the file (the copy the router routes with while the
   * file cannot be read), with its profiles as the store listed them.
   */
  registry?: KeptRegistry;
  /**
   * Read each keychain profile's entry, as a file profile's auth.json is read, so one whose
   * keychain is locked or out of reach shows `keychain unavailable` (reported through
   * `onProblem`) rather than `ready`: for the commands that show files with no router running.
   * A router's state has its own finding (its reads and re-checks), so it leaves this off and
   * never waits on the keychain to draw.
   */
  readKeychain?: boolean;
  /** The keychain the store reads; default the system keychain (tests pass their own). */
  keyring?: KeyringPort;
  /** Injected time for the keychain reads' one deadline; default the system clock. */
  clock?: Clock;
  /**
   * The command's one keychain deadline, when reads before these views had it (`usage --refresh`
   * reads tokens first): a keychain that did not answer those is not waited for again. Default:
   * one of the views' own, for every keychain read they make (listed profiles and folders no
   * registry lists alike).
   */
  keychainDeadline?: KeychainDeadline;
}

/** A registry and its listed profiles, as last read while the file could be read. */
export interface KeptRegistry {
  registry: Registry;
  entries: readonly ProfileEntry[];
}

/**
 * One view per profile, in the user's order. Throws `corrupt_file` only when the registry itself
 * is broken; a broken auth.json or state file is reported through `onProblem` instead.
 */
export async function buildProfileViews(
  paths: LabPaths,
  now: number,
  options: BuildViewsOptions = {},
): Promise<ProfileView[]> {
  const report = options.onProblem ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  // Every keychain read of these views (listed profiles, folders no registry lists) waits under
  // one deadline.
  const deadline = options.keychainDeadline ?? new KeychainDeadline(clock);
  const store = createProfileStore({
    paths,
    now: () => now,
    keychainDeadline: deadline,
    ...(options.keyring ? { keyring: options.keyring } : {}),
  });
  // Listing first: it finishes interrupted operations and rebuilds a missing registry.
  const listed = options.registry?.entries ?? (await store.listProfiles());
  const registry = options.registry?.registry ?? (await store.readRegistry());
  const only = options.only;
  const entries = only ? listed.filter((entry) => only.includes(entry.name)) : listed;
  for (const problem of await store.unreadableRecords()) report(problem);
  // Folders no registry lists are no one profile's: a command about named profiles skips them.
  // Read while the files and the profiles' keychain entries are (a keychain that hangs then
  // costs one wait, not two); what those say is reported after them, in the order it came.
  const unlisted = only ? Promise.resolve([]) : store.unlistedProfiles();
  const later: Array<readonly [LabError, string | undefined]> = [];
  const reportLater = (error: LabError, profile?: string) => later.push([error, profile]);
  const inKeychain = (entry: ProfileEntry) => entry.store === 'keyring' && !entry.legacy;
  const [unlistedProblems, [health, quota, priming], authProblems, keychainProblems] =
    await Promise.all([
      unlisted,
      Promise.all([
        readOptional(paths.health, healthFileSchema, reportLater),
        readOptional(paths.quota, quotaFileSchema, reportLater),
        readOptional(paths.priming, primingFileSchema, reportLater),
      ]),
      Promise.all(
        entries.map((entry) =>
          inKeychain(entry)
            ? null
            : authProblem(paths, entry, (error) => reportLater(error, entry.name)),
        ),
      ),
      options.readKeychain === true
        ? keychainProblemsWithin(store, entries.filter(inKeychain), deadline, reportLater)
        : new Map<string, LabError | null>(),
    ]);
  for (const problem of unlistedProblems) report(problem);
  for (const [problem, profile] of later) report(problem, profile);
  return entries.map((entry, index): ProfileView => {
    // Figures saved for another account that had this name (or before a removal the file kept)
    // are not this profile's.
    const saved = quota?.profiles[entry.name];
    const own = saved && stampMatches(saved.account, accountStamp(entry)) ? saved : undefined;
    const latest = own?.latest ?? null;
    let state: ProfileHealth = effectiveHealth(health?.profiles[entry.name], now);
    const problem = authProblems[index] ?? keychainProblems.get(entry.name) ?? null;
    const fileBacked = entry.store !== 'keyring' || entry.legacy;
    if (signInMarkLifted(state, fileBacked && !problem)) {
      // Marked for a missing auth file that holds tokens again: not known to need a sign-in.
      state = { status: 'unknown', unavailableUntil: null, code: null, message: null };
    } else if (problem) {
      state = {
        status: 'auth_error',
        unavailableUntil: null,
        code: problem.code,
        message: problem.message,
      };
    } else {
      // Figures that show a window used up are as good as a 429 until it resets, as routing
      // holds them (`standingHealth`).
      state = standingHealth(state, latest, now);
    }
    const last = priming?.profiles[entry.name]?.last ?? null;
    return {
      name: entry.name,
      label: entry.label,
      email: entry.email,
      // The plan the upstream last reported wins over the one recorded at sign-in: a user who
      // upgrades (plus to pro) sees it without signing in again.
      plan: latest?.plan ?? entry.plan ?? null,
      accountId: entry.accountId,
      active: registry.active === entry.name,
      status: state.status,
      statusMessage: healthStatusMessage(entry.name, state),
      ...(state.status !== 'ok' && state.code !== null ? { statusCode: state.code } : {}),
      unavailableUntil: isoOrNull(state.unavailableUntil),
      priming: entry.priming.enabled,
      primingLast: last ? { ...last, at: new Date(last.at).toISOString() } : null,
      quota: {
        primary: windowView(latest?.primary ?? null),
        secondary: windowView(latest?.secondary ?? null),
        updatedAt: isoOrNull(latest?.observedAt ?? null),
      },
      history: (own?.history ?? []).map((point) => ({
        at: new Date(point.at).toISOString(),
        primary: point.primary,
        secondary: point.secondary,
      })),
      forecast: toForecastView(forecastWeekly(latest, own?.history ?? [], now)),
      ...withFamilyMarks(quotaExtras(latest), health ?? {}, entry.name, now),
      store: entry.store,
      createdAt: entry.createdAt,
      lastUsedAt: entry.lastUsedAt,
      legacy: entry.legacy,
    };
  });
}

/**
 * Puts quota newer than the files' into a view: a snapshot this process holds (the router's or a
 * command's quota book), its history and forecast. The book is the truth and `state/quota.json`
 * its cache, so numbers a refresh just read show even when that file could not be written.
 */
export function overlayQuota(
  view: ProfileView,
  live: {
    snapshot: QuotaSnapshot | null;
    history: readonly QuotaPoint[];
    forecast: QuotaForecast | null;
  },
): void {
  const quota = live.snapshot;
  if (!quota) return;
  const shownAt = view.quota.updatedAt ? Date.parse(view.quota.updatedAt) : 0;
  if (quota.observedAt > shownAt) {
    view.quota = {
      primary: windowView(quota.primary),
      secondary: windowView(quota.secondary),
      updatedAt: new Date(quota.observedAt).toISOString(),
    };
    const marked = view.limits?.filter((family) => family.limitedUntil !== undefined) ?? [];
    delete view.credits;
    delete view.resetCredits;
    delete view.limits;
    Object.assign(view, quotaExtras(quota));
    // The family marks the view was built with (from health.json) stay beside the new figures.
    for (const family of marked) {
      const shown = view.limits?.find((other) => other.id === family.id);
      if (shown) shown.limitedUntil = family.limitedUntil!;
      else (view.limits ??= []).push(family);
    }
  }
  view.forecast = toForecastView(live.forecast);
  if (live.history.length >= view.history.length) {
    view.history = live.history.map((point) => ({
      at: new Date(point.at).toISOString(),
      primary: point.primary,
      secondary: point.secondary,
    }));
  }
}

/** The registry's active setting ("auto" or a name), for surfaces that show it apart. */
export async function readActive(paths: LabPaths): Promise<string> {
  return (await createProfileStore({ paths }).readRegistry()).active;
}

/** A forecast as the contract's view (ISO times and an outlook word). */
export function toForecastView(forecast: QuotaForecast | null): ForecastView | null {
  if (!forecast) return null;
  return {
    outlook:
      forecast.usedPercent >= 100
        ? 'exhausted'
        : forecast.runsOutAt !== null
          ? 'runs_out'
          : 'lasts',
    runsOutAt: isoOrNull(forecast.runsOutAt),
    resetsAt: isoOrNull(forecast.resetsAt),
    percentPerHour: Math.round(forecast.percentPerHour * 100) / 100,
    usedPercent: forecast.usedPercent,
  };
}

/**
 * The view's credits, reset credits and additional limit families from a snapshot: each key is present only when
 * the account reports it (absent, not zero).
 */
export function quotaExtras(
  snapshot: QuotaSnapshot | null,
): Pick<ProfileView, 'credits' | 'resetCredits' | 'limits'> {
  const extras: Pick<ProfileView, 'credits' | 'resetCredits' | 'limits'> = {};
  // An account without credits reports `has_credits: false`: that is "none", so nothing is shown.
  const credits = snapshot?.credits;
  if (credits && (credits.hasCredits || credits.unlimited)) extras.credits = { ...credits };
  const resetCredits = snapshot?.resetCredits;
  if (resetCredits) {
    extras.resetCredits = {
      available: resetCredits.available,
      nextExpiresAt: isoOrNull(resetCredits.nextExpiresAt),
    };
  }
  const families = (snapshot?.others ?? []).filter((other) => other.limitId !== defaultLimitId);
  if (families.length > 0) {
    extras.limits = families.map((family) => ({
      id: family.limitId,
      name: family.limitName,
      primary: windowView(family.primary),
      secondary: windowView(family.secondary),
    }));
  }
  return extras;
}

/**
 * `extras` with the family marks `state/health.json` holds for `name` at `now`: each family
 * limited shows until when (`limitedUntil`), beside its figures, or alone when none were read.
 */
export function withFamilyMarks(
  extras: Pick<ProfileView, 'credits' | 'resetCredits' | 'limits'>,
  health: Pick<HealthFile, 'families'>,
  name: string,
  now: number,
): Pick<ProfileView, 'credits' | 'resetCredits' | 'limits'> {
  for (const family of Object.keys(health.families?.[name] ?? {})) {
    const until = familyLimitedUntil(health, name, family, now);
    if (until === null) continue;
    const limits = (extras.limits ??= []);
    const shown = limits.find((limit) => limitFamily(limit.id) === family);
    const limitedUntil = new Date(until).toISOString();
    if (shown) shown.limitedUntil = limitedUntil;
    else limits.push({ id: family, name: null, primary: null, secondary: null, limitedUntil });
  }
  return extras;
}

/** The quota a view shows, back as a snapshot and history (for the forecast and pool summary). */
export function viewQuota(view: ProfileView): {
  snapshot: QuotaSnapshot | null;
  history: QuotaPoint[];
} {
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const window = (w: QuotaWindowView | null): QuotaWindow | null =>
    w && { usedPercent: w.usedPercent, windowMinutes: w.windowMinutes, resetsAt: ms(w.resetsAt) };
  const { primary, secondary, updatedAt } = view.quota;
  const snapshot: QuotaSnapshot | null =
    updatedAt === null && !primary && !secondary
      ? null
      : {
          observedAt: ms(updatedAt) ?? 0,
          source: 'usage',
          plan: view.plan,
          primary: window(primary),
          secondary: window(secondary),
          // A copy: the stored shape keeps fields it does not know, which an interface cannot say.
          credits: view.credits ? { ...view.credits } : null,
          activeLimit: null,
          limitReached: null,
          others: [],
        };
  const history = view.history.map((point) => ({
    at: Date.parse(point.at),
    primary: point.primary,
    secondary: point.secondary,
  }));
  return { snapshot, history };
}

function windowView(window: QuotaWindow | null): QuotaWindowView | null {
  if (!window) return null;
  return {
    usedPercent: window.usedPercent,
    windowMinutes: window.windowMinutes,
    resetsAt: isoOrNull(window.resetsAt),
  };
}

function isoOrNull(ms: number | null): string | null {
  return ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

async function readOptional<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  report: (error: LabError) => void,
): Promise<z.output<Schema> | undefined> {
  try {
    return await readJsonFile(path, schema);
  } catch (error) {
    if (!isLabError(error)) throw error;
    report(error);
    return undefined;
  }
}

/**
 * `keychainProblem` of each of `entries`, by name, all read at once under one deadline: a
 * keychain that hangs instead of refusing (an unlock prompt no one answers) costs a listing one
 * wait (`KeychainDeadline`), not one per profile. A profile whose read has not answered by
 * then is `keyring_unavailable`, and those profiles are reported together in one sentence.
 */
async function keychainProblemsWithin(
  store: ProfileStore,
  entries: readonly ProfileEntry[],
  deadline: KeychainDeadline,
  report: (error: LabError, profile?: string) => void,
): Promise<Map<string, LabError | null>> {
  const found = new Map<string, LabError | null>();
  if (entries.length === 0) return found;
  // A read that answers after the deadline is no longer waited for: what it says is dropped.
  await Promise.all(
    entries.map(async (entry) => {
      const said: LabError[] = [];
      const answer = await deadline.within(() =>
        keychainProblem(store, entry, (error) => said.push(error)),
      );
      if (answer.late) return;
      for (const error of said) report(error, entry.name);
      found.set(entry.name, answer.value);
    }),
  );
  const late = entries.filter((entry) => !found.has(entry.name)).map((entry) => entry.name);
  if (late.length === 0) return found;
  // A read still pending answers nothing more here: the keychain's own limit ends it.
  const seconds = deadline.limitMs / 1000;
  const detail = `no answer within ${seconds} s`;
  const silent = new LabError('keyring_unavailable', `The OS keychain gave ${detail}.`, {
    details: { detail },
  });
  for (const name of late) found.set(name, keychainProfileUnreadable(name, silent));
  const which =
    late.length === 1
      ? `${late[0]}'s sign-in`
      : `the sign-ins of ${late.slice(0, -1).join(', ')} and ${late.at(-1)}`;
  report(
    new LabError(
      'keyring_unavailable',
      `The OS keychain did not answer within ${seconds} s, so ${which} could not be checked: ${keychainCure(detail)}.`,
      { details: { detail, profiles: late } },
    ),
  );
  return found;
}

/**
 * Why the keychain entry of the keychain profile `entry` cannot serve it, else null: the rule of
 * `authProblem` for a profile whose tokens are in the OS keychain. A keychain out of reach is
 * the profile's state (`keyring_unavailable`, in the words the router uses), reported.
 */
async function keychainProblem(
  store: ProfileStore,
  entry: ProfileEntry,
  report: (error: LabError) => void,
): Promise<LabError | null> {
  try {
    const auth = await store.readAuth(entry.name);
    if (auth.tokens) return heldByAnotherAccount(entry.name, entry, auth);
  } catch (error) {
    if (!isLabError(error)) throw error;
    report(error);
    return error;
  }
  const missing = signInAgainError(
    'not_signed_in',
    entry.name,
    'Its keychain entry holds no tokens.',
    {
      namesProfile: false,
    },
  );
  report(missing);
  return missing;
}

/**
 * Why a file profile's tokens (its auth.json, or the legacy one) cannot be read or used: none, or
 * another account's.
 */
async function authProblem(
  paths: LabPaths,
  entry: ProfileEntry,
  report: (error: LabError) => void,
): Promise<LabError | null> {
  const path = entry.legacy ? paths.legacyAuth : paths.profileAuth(entry.name);
  try {
    const auth = await readAuthFile(path);
    // Another account's tokens are shown as its state (the sentence names whose), not as a file
    // that cannot be read: the router and the token manager refuse them by the same rule.
    if (auth?.tokens) return heldByAnotherAccount(entry.name, entry, auth);
    const missing = signInAgainError('not_signed_in', entry.name, `${path} holds no tokens.`, {
      namesProfile: false,
    });
    report(missing);
    return missing;
  } catch (error) {
    if (!isLabError(error)) throw error;
    report(error);
    return error;
  }
}
