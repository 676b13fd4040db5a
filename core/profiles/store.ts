/**
 * The profile store: the registry `auth-profiles.json` plus one Codex-compatible auth.json per
 * profile (or one keychain entry), and the legacy `$CODEX_LAB_HOME/auth.json` used in place as
 * `default` (docs/design.md section 2, docs/storage.md).
 *
 * Every registry change is a locked read-modify-write with an atomic write, so the tray app and
 * the CLI can edit side by side; every auth write is atomic and touches one profile only.
 */
import {
  chmod,
  link,
  lstat,
  readdir,
  readFile,
  realpath,
  rename as renamePath,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isLabError, LabError, signInAgainError } from '../errors.ts';
import { unreadableTokens, withoutSentenceEnd } from '../format.ts';
import { parseAuthText, readAuthFile } from './auth-file.ts';
import {
  ensurePrivateDirectory,
  readJsonFile,
  removeStaleTempFiles,
  writeJsonFile,
  type AtomicWriteEffects,
} from '../home/files.ts';
import { refreshLockWaitMs } from '../home/lock-waits.ts';
import { withLock, type LockLease, type LockOptions } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { silentLogger, systemClock, type Clock, type Logger } from '../ports.ts';
import { KeychainDeadline, keyringWithin } from './keychain-deadline.ts';
import { HealthStore } from '../state/health-store.ts';
import {
  clearJournal,
  journalPending,
  readJournal,
  setAsideJournal,
  tokenDigest,
  unreadableJournal,
  unreadableJournalDir,
  writeJournal,
  type JournalEntry,
} from './journal.ts';
import { identityFromAuth, type AuthIdentity } from './jwt.ts';
import {
  findUnwritableFolder,
  nodeProbeFs,
  signInFolders,
  type ProbeFs,
  type UnwritableFolder,
} from './sign-in-folders.ts';
import {
  formerKeyringAccountFor,
  keyringAccountFor,
  keychainCure,
  keychainProfileUnreadable,
  keyringFailureDetail,
  keyringFailureReason,
  keyringService,
  probeKeyring,
  type KeyringPort,
  type KeyringProbe,
} from './keyring.ts';
import {
  isAutoName,
  matchProfileName,
  maxNameLength,
  profileNameRule,
  quotedName,
  reservedNames,
  signInNameTaken,
  signInNameTarget,
  unknownProfile,
  validateProfileName,
} from './names.ts';
import {
  emptyRegistry,
  lastUseIntervalMs,
  profileNamePattern,
  registrySchema,
  type AuthDotJson,
  type Pin,
  type ProfileRecord,
  type Registry,
  type StoreKind,
} from './schema.ts';

export type { KeyringPort } from './keyring.ts';

/** A profile as callers see it. */
export interface ProfileEntry extends ProfileRecord {
  /** True for the in-place legacy `$CODEX_LAB_HOME/auth.json`, listed as `default`. */
  legacy: boolean;
}

/** The name the legacy single-account auth.json is listed under. */
export const legacyProfileName = 'default';

export { validateProfileName } from './names.ts';

/**
 * What a wait for `profile`'s refresh lock held by `holderPid` (null: not known) is said as, by
 * the store that waits and by a command whose router waits for it (`core/cli/lab-client.ts`).
 */
export function refreshLockWaitText(profile: string, holderPid: number | null): string {
  const holder =
    holderPid === null ? 'another Codex Lab process' : `Codex Lab process ${holderPid}`;
  return `waiting for ${holder}, which holds profile ${profile}'s token refresh (its new tokens are written first); if that process is stopped (Ctrl-Z), resume or end it`;
}

/**
 * Throws `invalid_argument` for an empty session id (a pin or an unpin must name a session):
 * the one sentence every surface says.
 */
export function checkSessionIdGiven(id: string): void {
  if (id.trim() === '') {
    throw new LabError(
      'invalid_argument',
      'The session id is empty: give the id of a Codex session (--session ID).',
    );
  }
}

/**
 * A Codex session id: a UUID (v7 from Codex 0.169 on, v4 before), 8-4-4-4-12 hexadecimal digits.
 * Codex writes it in lower case; any case is taken.
 */
const sessionIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The session id `typed` names in the one form pins are kept and matched in (lower case, as
 * Codex sends it: `session-id`, `thread-id`, `prompt_cache_key`), or `invalid_argument` for an
 * empty id or one that is not a UUID: a pin no session can match would be listed and route
 * nothing. Surrounding blanks (a paste) are dropped.
 */
export function checkSessionId(typed: string): string {
  checkSessionIdGiven(typed);
  const id = typed.trim();
  if (!sessionIdPattern.test(id)) {
    throw new LabError(
      'invalid_argument',
      `${quotedName(typed)} is not a Codex session id: give the session's UUID as Codex shows it (like 0199aabb-ccdd-7eef-8899-aabbccddeeff).`,
    );
  }
  return id.toLowerCase();
}

/**
 * The key a session pin named `typed` is kept under in `pins`: `checkSessionId`'s form, or, for an
 * unpin, `typed` as it stands when a pin has exactly that key (one made before ids had to be
 * UUIDs). The one reading of a typed session id for the store and the commands that say what a
 * pin or unpin changes.
 */
export function sessionPinKey(
  typed: string,
  pins: Readonly<Record<string, Pin>>,
  unpin: boolean,
): string {
  checkSessionIdGiven(typed);
  if (unpin && Object.hasOwn(pins, typed)) return typed;
  return checkSessionId(typed);
}

/** What `ProfileStore.setPin` changed. */
export interface PinChange {
  /** False when the pin already stood as asked (nothing written). */
  changed: boolean;
  /** The key the pin is kept under (a session id in lower case; a repository's path). */
  key: string;
  /** The profile the key was pinned to before, when the pin moved from it to another; else null. */
  replaced: string | null;
}

/**
 * Whether pinning `key` to `profile` (a profile's real name; null: no pin) with `allowFallback`
 * would change nothing: that pin stands already, or for null there is none. The one rule for the
 * store (which then writes and logs nothing) and for the commands that say so.
 */
export function pinStands(
  pins: Readonly<Record<string, Pin>>,
  key: string,
  profile: string | null,
  allowFallback: boolean,
): boolean {
  const pin = Object.hasOwn(pins, key) ? pins[key] : undefined;
  if (profile === null) return pin === undefined;
  return pin !== undefined && pin.profile === profile && pin.allowFallback === allowFallback;
}

/** Latin letters that Unicode does not decompose into a plain letter and a mark. */
const plainLetters: Readonly<Record<string, string>> = {
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

/**
 * Derives a valid, unused profile name from an email's local part: alice, alice-2, … An accented
 * letter is its plain letter (`zoë.ünï` is `zoe.uni`); any other character a name cannot hold is a
 * hyphen, and a run of separators around one is that one hyphen (`jo+.x` is `jo-x`, not `jo-.x`).
 */
export function deriveProfileName(email: string | null, existing: string[]): string {
  const local = (email ?? '').split('@')[0] ?? '';
  let base = local
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[øæœßłđðþı]/g, (letter) => plainLetters[letter] ?? letter)
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]*-[._-]*/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, maxNameLength - 6)
    .replace(/[-.]+$/, '');
  if (base === '') base = 'account';
  // A reserved or Windows device name (`auto`, `con`, `con.work`) gets a suffix on its first part.
  if (!usableName(base)) base = base.replace(/^[^.]*/, (first) => `${first}-1`);
  const taken = new Set(existing.map((name) => name.toLowerCase()));
  if (!taken.has(base)) return base;
  for (let suffix = 2; ; suffix += 1) {
    const candidate = `${base}-${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Builds the exact auth.json Codex writes: key order, `auth_mode`, `OPENAI_API_KEY` always present. */
export function normalizeAuth(auth: AuthDotJson): AuthDotJson {
  const { auth_mode, OPENAI_API_KEY, tokens, last_refresh, ...rest } = auth;
  const normalized: AuthDotJson = {
    // Without auth_mode a stored API key would flip Codex into API-key mode (research 3.2).
    auth_mode: auth_mode ?? 'chatgpt',
    OPENAI_API_KEY: OPENAI_API_KEY ?? null,
  };
  if (tokens !== undefined) normalized.tokens = tokens;
  if (last_refresh !== undefined) normalized.last_refresh = last_refresh;
  return { ...normalized, ...rest };
}

/** Options for a `ProfileStore`. */
export interface ProfileStoreOptions {
  paths: LabPaths;
  /** Needed only for profiles whose store kind is `keyring`. */
  keyring?: KeyringPort;
  /** Injected time (Unix ms). */
  now?: () => number;
  /** Registry lock timing (tests shorten it). */
  lock?: LockOptions;
  /**
   * How long a rename, remove or sign-in waits for a profile's refresh lock. Default
   * `refreshLockWaitMs` (as long as a refresh may hold it); tests shorten it.
   */
  refreshLockWaitMs?: number;
  /** Where journal replays and lost leases are reported. */
  logger?: Logger;
  /**
   * Test hook: called at each step of a multi-step operation (`rename:moved`, …); a test throws
   * or exits the process there to simulate a crash at exactly that point.
   */
  step?: (point: string) => void | Promise<void>;
  /** How folders are probed for writing (`findUnwritableFolder`); tests inject failing calls. */
  probeFs?: ProbeFs;
  /**
   * Whether the keychain answers, asked before a sign-in that keeps its tokens there
   * (`precheckSignIn`). Default: a probe of `keyring` (none: not available).
   */
  probeKeyring?: () => Promise<KeyringProbe>;
  /** The platform whose keychain key Codex computes (`keyringAccountFor`); default this one's. */
  platform?: NodeJS.Platform;
  /**
   * The one deadline of the command's keychain reads (`KeychainDeadline`): every read this store
   * makes waits under it, so a keychain that hangs costs the command one wait. Without one, each
   * load's reads of folders no registry lists get a deadline of their own.
   */
  keychainDeadline?: KeychainDeadline;
  /** Injected time for the keychain reads' deadline; default the system clock. */
  clock?: Clock;
}

/**
 * A profile folder's keychain keys: Codex's own (`key`), and on Windows the one older versions
 * kept its entry under (`former`; null where there is none to move).
 */
interface KeychainKeys {
  key: string;
  former: string | null;
}

/**
 * How old a temp file of an atomic write must be before it is taken for a killed write's leftover
 * (a write takes milliseconds; a process paused mid-write for ten minutes has lost its lock).
 */
const staleTempFileMs = 10 * 60_000;
/** How many times a sign-in looks its profile up again after a rename raced it. */
const signInLookups = 8;

/** The profile registry and every profile's tokens. */
export class ProfileStore {
  readonly #paths: LabPaths;
  readonly #keyring: KeyringPort | undefined;
  readonly #now: () => number;
  /** What the registry listed when it last read (see `getProfile`); null before it has. */
  #lastListed: ProfileEntry[] | null = null;
  readonly #lock: LockOptions;
  readonly #refreshLockWaitMs: number;
  readonly #logger: Logger;
  readonly #step: (point: string) => void | Promise<void>;
  readonly #probeFs: ProbeFs;
  readonly #probeKeyring: () => Promise<KeyringProbe>;
  readonly #platform: NodeJS.Platform;
  readonly #keychainDeadline: KeychainDeadline | undefined;
  readonly #clock: Clock;
  /** How its files are written: on its platform (and a test's clock), a wait for another program logged. */
  readonly #files: Partial<AtomicWriteEffects>;
  /** What this store's rebuild of a lost registry did and found (see `lostRegistryReport`). */
  #lostRegistry: { rebuilt: string | null; problems: LabError[] } = { rebuilt: null, problems: [] };
  /** Why each journal record kept by this process's last replay of it could not be replayed. */
  readonly #replayFailures = new Map<string, unknown>();

  constructor(options: ProfileStoreOptions) {
    this.#paths = options.paths;
    this.#keychainDeadline = options.keychainDeadline;
    this.#clock = options.clock ?? systemClock;
    this.#keyring =
      options.keyring && options.keychainDeadline
        ? keyringWithin(options.keyring, options.keychainDeadline)
        : options.keyring;
    this.#now = options.now ?? Date.now;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'profile-store' });
    this.#lock = { warn: (message) => this.#logger.warn({}, message), ...options.lock };
    this.#refreshLockWaitMs =
      options.refreshLockWaitMs ?? Math.max(this.#lock.waitMs ?? 0, refreshLockWaitMs);
    this.#step = options.step ?? (() => undefined);
    this.#probeFs = options.probeFs ?? nodeProbeFs;
    this.#platform = options.platform ?? process.platform;
    this.#files = {
      platform: this.#platform,
      // Only a clock a test gives: the real waits keep the process alive (`writeFileAtomically`).
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      warn: (message) => this.#logger.warn({}, message),
    };
    const keyring = options.keyring;
    this.#probeKeyring =
      options.probeKeyring ??
      (keyring
        ? () => probeKeyring(keyring)
        : () =>
            Promise.resolve({
              available: false,
              reason: 'no keychain was configured for this process',
            }));
  }

  /** The registry; empty when the file is missing, `corrupt_file` naming it when it is broken. */
  async readRegistry(): Promise<Registry> {
    return (await readJsonFile(this.#paths.registry, registrySchema)) ?? emptyRegistry();
  }

  /**
   * Locked read-modify-write of the registry. `mutate` edits the registry in place; the file is
   * rewritten atomically only when something changed.
   */
  async updateRegistry<T>(mutate: (registry: Registry) => T | Promise<T>): Promise<T> {
    return this.#locked(async () => {
      const registry = await this.readRegistry();
      const before = JSON.stringify(registry);
      const result = await mutate(registry);
      await this.#writeRegistryIfChanged(registry, before);
      return result;
    });
  }

  /** Registry profiles in the user's order, plus the legacy `default` when it is unlisted. */
  async listProfiles(): Promise<ProfileEntry[]> {
    await this.recover();
    const listed = await this.#entries(await this.readRegistry());
    this.#lastListed = listed;
    return listed;
  }

  /**
   * Completes or rolls back operations a killed process left half done, and adopts refreshed
   * tokens that could not be written in place. Cheap (one readdir) when there is nothing to do;
   * every locked registry operation does it first anyway.
   */
  async recover(): Promise<void> {
    if ((await journalPending(this.#paths.journalDir)) || (await this.#registryLost())) {
      await this.#locked(async () => undefined);
    }
  }

  /**
   * Profile folders holding an auth file that the registry does not list (a hand edit of the
   * registry, or a copy of the home), each reported by name with how to list it again: they may
   * hold an account's only sign-in, so they are never hidden. None while a journal record is
   * pending (an operation in progress may be the reason), or while the registry cannot be read
   * (that is reported instead).
   */
  async unlistedProfiles(): Promise<LabError[]> {
    if (await journalPending(this.#paths.journalDir)) return [];
    let registry: Registry;
    try {
      registry = await this.readRegistry();
    } catch {
      return [];
    }
    const problems: LabError[] = [];
    // A keychain profile's folder holds no auth file: its sign-in is in its keychain entry, read
    // only for such folders. While the registry file is missing, the rebuild says what it could
    // not read (`lostRegistryReport`).
    if (await exists(this.#paths.registry)) {
      problems.push(...(await this.#keychainOnlyFolders(registry)).found);
    }
    for (const folder of await this.#unlistedFolders(registry)) {
      const dir = this.#paths.profileDir(folder.name);
      const email = folder.identity?.email ?? null;
      // A listed profile of the same account: a sign-in of it renews that profile (one profile
      // per account), so it can never list this folder.
      const identity = folder.identity;
      const holder = identity?.accountId
        ? registry.profiles.find((entry) => sameAccount(entry, identity))?.name
        : undefined;
      if (holder !== undefined) {
        problems.push(
          new LabError(
            'unlisted_profile',
            `${dir} holds a sign-in of ${email ?? 'an account'}, the account the profile ${holder} already holds, and auth-profiles.json does not list it: a profile per account, so it cannot be listed again; delete the folder or move it out of auth-profiles once you no longer need it.`,
            { details: { path: dir } },
          ),
        );
        continue;
      }
      const wrong = `${dir} holds the sign-in of ${email ?? 'an account'}, but auth-profiles.json does not list it`;
      // A folder with a valid name is listed again by signing in under that name; one with an
      // invalid name once the user gave the folder a valid one (no surface renames it for them).
      // Each surface words the fix its own way.
      problems.push(
        profileNamePattern.test(folder.name)
          ? new LabError('unlisted_profile', `${wrong}.`, {
              details: { path: dir },
              fix: { action: 'add_account', name: folder.name, email },
            })
          : new LabError(
              'unlisted_profile',
              `${wrong}: "${folder.name}" is not a valid profile name (${profileNameRule}).`,
              {
                details: { path: dir },
                fix: { action: 'rename_folder', folder: folder.name, email },
              },
            ),
      );
    }
    return problems;
  }

  /**
   * Journal records that could not be read (a damaged disk, a hand edit, a newer version's
   * format), set aside under `state/journal/unreadable/`: the operations they record were not
   * finished from them, so each is reported by name until the user deletes it.
   */
  async unreadableRecords(): Promise<LabError[]> {
    return (await unreadableJournal(this.#paths.journalDir)).map(
      (path) =>
        new LabError(
          'corrupt_file',
          `${path} records an interrupted profile change that this version of Codex Lab cannot read, so that change was not finished from it; it may hold an account's tokens: move it away only once your profiles work.`,
          { details: { path } },
        ),
    );
  }

  /**
   * Keeps refreshed tokens that could not be written to their profile (`state/journal/`, 0600):
   * the next load writes them to the profile that still holds `replacedRefreshToken`, found by
   * account identity, whatever its name is by then.
   */
  async saveRecoveredTokens(
    name: string,
    auth: AuthDotJson,
    replacedRefreshToken: string,
  ): Promise<string> {
    const identity = identityFromAuth(auth);
    return this.#writeJournal({
      op: 'recovered',
      profile: name,
      accountId: auth.tokens?.account_id ?? identity.accountId,
      email: identity.email,
      replaces: tokenDigest(replacedRefreshToken),
      auth: normalizeAuth(auth),
    });
  }

  /**
   * One profile; `profile_not_found` naming it when there is none. When the registry stops
   * reading while this process runs (the router), its profiles are where the last good listing
   * said: their tokens are read, and a refresh's new tokens written, there, so the router keeps
   * routing with that copy as it says it does. Listing, signing in, renaming and removing stay
   * refused, naming the file, until it is fixed.
   */
  async getProfile(name: string): Promise<ProfileEntry> {
    let listed: ProfileEntry[];
    try {
      listed = await this.listProfiles();
    } catch (error) {
      const unreadableRegistry =
        error instanceof LabError &&
        error.code === 'corrupt_file' &&
        error.details?.['path'] === this.#paths.registry;
      // A name that copy does not hold is not "no such profile": the registry may hold it now.
      const kept = unreadableRegistry ? this.#lastListed : null;
      const real = kept
        ? matchProfileName(
            name,
            kept.map((entry) => entry.name),
          )
        : null;
      const found = real === null ? undefined : kept?.find((entry) => entry.name === real);
      if (!found) throw error;
      return found;
    }
    return findEntry(listed, name);
  }

  /**
   * Puts in place tokens a killed process had written but not yet renamed over the profile's
   * auth.json. An atomic write first writes a temporary file beside the target (`auth.json.<n>`,
   * synced to disk) and then renames it; a SIGKILL between the two leaves the rotated tokens only
   * in that temporary file, while auth.json still holds the refresh token the issuer has already
   * spent, so refreshing from auth.json would cost the account its sign-in. The caller holds the
   * profile's refresh lock, under which every write of this auth file happens but one: the
   * journal's replay of recovered tokens writes under the registry lock only; a leftover of its
   * taken here makes that write fail and be replayed again, losing nothing. One is adopted when it parses, holds the same account's tokens with another
   * refresh token, and was written no earlier than auth.json (a later sign-in or refresh wins);
   * the rest are removed. Keychain profiles have no such files.
   *
   * Then, for either store, the other way a rotated token can be waiting: a `recovered` journal
   * record (a write that failed, `saveRecoveredTokens`). Looking the profile up replays the
   * journal, which writes such tokens over the token they replace; when one still waits to
   * replace the token the profile holds (the keychain still out of reach, the disk still full),
   * this throws that failure instead, so the refresh spends nothing. Returns true when tokens
   * were adopted from a leftover file.
   */
  async adoptUnfinishedWrite(name: string): Promise<boolean> {
    const entry = await this.getProfile(name);
    const adopted = await this.#adoptUnfinishedWriteOf(entry);
    await this.#refuseReplacedToken(entry);
    return adopted;
  }

  async #adoptUnfinishedWriteOf(entry: ProfileEntry): Promise<boolean> {
    if (entry.store === 'keyring' && !entry.legacy) return this.#adoptKeychainWrite(entry);
    const path = this.#authPathOf(entry);
    const folder = dirname(path);
    const prefix = `${basename(path)}.`;
    const leftovers = (await readdir(folder).catch(() => [] as string[]))
      .filter((file) => file.startsWith(prefix) && /^\d{1,10}$/.test(file.slice(prefix.length)))
      .map((file) => join(folder, file));
    if (leftovers.length === 0) return false;
    // Only beside a whole auth file of a signed-in account; a broken one is reported by name where
    // it is read, and nothing is adopted over it or removed beside it.
    const current = await readTimedAuth(path);
    const currentTokens = current?.auth.tokens;
    if (current === undefined || !currentTokens) return false;
    const identity = identityFromAuth(current.auth);
    let best: { path: string; time: number } | undefined;
    for (const leftover of leftovers) {
      const candidate = await readTimedAuth(leftover);
      const tokens = candidate?.auth.tokens;
      const fits =
        candidate !== undefined &&
        !!tokens &&
        tokens.refresh_token !== currentTokens.refresh_token &&
        sameAccount(identityFromAuth(candidate.auth), identity) &&
        // A tie (whole-second times) adopts: a leftover's tokens are live, so adopting one over
        // a sign-in of the same second loses nothing, while dropping it could lose the account.
        candidate.time >= current.time;
      if (fits && (best === undefined || candidate.time > best.time)) {
        best = { path: leftover, time: candidate.time };
      }
    }
    if (best !== undefined) {
      await renamePath(best.path, path);
      this.#logger.warn(
        { profile: entry.name },
        'adopted refreshed tokens a stopped process had written but not yet put in place',
      );
    }
    for (const leftover of leftovers) {
      if (leftover !== best?.path) await unlink(leftover).catch(ignoreMissing);
    }
    return best !== undefined;
  }

  /**
   * Puts in the keychain rotated tokens a killed process had kept in the profile's folder on
   * their way there (`keepRotation`): only over the very refresh token they replace, and only the
   * same account's; otherwise (the write landed, a later sign-in, another account, a broken
   * file) the file is removed. A keychain that cannot be read or written now throws, keeping the
   * file, so the refresh spends nothing. The caller holds the profile's refresh lock.
   */
  async #adoptKeychainWrite(entry: ProfileEntry): Promise<boolean> {
    const path = join(this.#paths.profileDir(entry.name), keychainWriteFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return false;
    }
    const kept = parseKeychainWrite(path, text);
    if (kept !== undefined) {
      const current = await this.#readAuthOf(entry).catch((error: unknown) => {
        if (isLabError(error) && error.code === 'not_signed_in') return undefined;
        throw error;
      });
      const token = current?.tokens?.refresh_token;
      if (
        current !== undefined &&
        token !== undefined &&
        tokenDigest(token) === kept.replaces &&
        sameAccount(identityFromAuth(kept.auth), identityFromAuth(current))
      ) {
        await this.#writeAuthOf(entry, kept.auth);
        await unlink(path).catch(ignoreMissing);
        this.#logger.warn(
          { profile: entry.name },
          'adopted refreshed tokens a stopped process had not yet written to the keychain',
        );
        return true;
      }
    }
    await unlink(path).catch(ignoreMissing);
    return false;
  }

  /** The profile's auth.json path (for the legacy profile, the home's own auth.json). */
  async authPath(name: string): Promise<string> {
    return this.#authPathOf(await this.getProfile(name));
  }

  /**
   * The auth file that holds `entry`'s tokens, or null when they are in the keychain: the file
   * the router checks once a second (see `LabEngine`).
   */
  authFileOf(entry: ProfileEntry): string | null {
    return entry.store === 'keyring' && !entry.legacy ? null : this.#authPathOf(entry);
  }

  /** The profile's auth.json content, from its file, the keychain or the legacy file. */
  async readAuth(name: string): Promise<AuthDotJson> {
    const entry = await this.getProfile(name);
    return this.#readAuthOf(entry);
  }

  async #readAuthOf(entry: ProfileEntry): Promise<AuthDotJson> {
    if (entry.store === 'keyring' && !entry.legacy) {
      const keys = this.#keysOfFolder(this.#paths.profileDir(entry.name));
      const key = keys.key;
      const text = await this.#readKeychain(keys).catch((error: unknown) => {
        // Said of the profile, as every surface says it (the router, `list`, `usage`).
        if (isLabError(error) && error.code === 'keyring_unavailable') {
          throw keychainProfileUnreadable(entry.name, error);
        }
        throw error;
      });
      if (text === null) throw notSignedIn(entry.name, `the keychain entry ${key}`);
      return parseAuthText(`the keychain entry ${key}`, text);
    }
    const path = this.#authPathOf(entry);
    const auth = await readAuthFile(path);
    if (auth === undefined) throw notSignedIn(entry.name, path);
    return auth;
  }

  /** True when the profile's auth file (or keychain entry) holds tokens now. */
  async hasTokens(name: string): Promise<boolean> {
    try {
      return Boolean((await this.readAuth(name)).tokens);
    } catch {
      return false;
    }
  }

  /**
   * Keeps a refresh's rotated tokens for a keychain profile in a private file in its folder
   * (0600), before anything else is done with them; `writeAuth` removes it once the keychain
   * holds them. A keychain write is no atomic rename, and it and the read before it are D-Bus
   * round trips, far longer than a file's write and fsync: a process killed meanwhile would leave
   * the keychain holding the spent refresh token and the live one nowhere. The next refresh puts
   * such tokens in place (`adoptUnfinishedWrite`), as it does a file's leftover. The caller holds
   * the profile's refresh lock. A file profile needs none (its atomic write is its own), and a
   * file that cannot be written is logged and costs the refresh nothing.
   */
  async keepRotation(name: string, auth: AuthDotJson, replacedRefreshToken: string): Promise<void> {
    try {
      const entry = await this.getProfile(name);
      if (entry.store !== 'keyring' || entry.legacy) return;
      const dir = this.#paths.profileDir(entry.name);
      await ensurePrivateDirectory(dir);
      await writeJsonFile(join(dir, keychainWriteFile), {
        replaces: tokenDigest(replacedRefreshToken),
        auth: normalizeAuth(auth),
      });
    } catch (error) {
      this.#logger.warn(
        { profile: name, code: isLabError(error) ? error.code : 'unknown' },
        'could not keep the refreshed tokens beside the keychain while they are written to it',
      );
    }
  }

  /**
   * Replaces one profile's tokens atomically (0600 file or keychain); no other profile changes.
   * Once the keychain holds them, tokens kept on their way there (`keepRotation`) are removed.
   * `lease` is the refresh lock the write is made under: a write kept waiting by another program
   * holding the file open (Windows) stops once that lock is lost.
   */
  async writeAuth(
    name: string,
    auth: AuthDotJson,
    options: { lease?: LockLease } = {},
  ): Promise<void> {
    const entry = await this.getProfile(name);
    await this.#writeAuthOf(entry, auth, options);
    if (entry.store === 'keyring' && !entry.legacy) {
      await unlink(join(this.#paths.profileDir(entry.name), keychainWriteFile)).catch(
        ignoreMissing,
      );
    }
  }

  /**
   * Saves the result of a sign-in. The same (account id, email) as an existing profile
   * re-authenticates that profile in place; anything else becomes a new profile named
   * `requestedName`, else after the email.
   */
  async saveSignIn(input: {
    auth: AuthDotJson;
    requestedName: string | null;
    store?: StoreKind;
  }): Promise<SavedSignIn> {
    const auth = normalizeAuth(input.auth);
    const identity = identityFromAuth(auth);
    if (!auth.tokens || (identity.accountId === null && identity.email === null)) {
      throw new LabError(
        // The issuer's answer lacks what a profile is told apart by: no fault of the user's.
        'token_exchange_failed',
        'The sign-in returned no account id or email, so it cannot be told apart from other accounts; try signing in again.',
      );
    }
    if (auth.tokens.account_id == null && identity.accountId !== null) {
      auth.tokens = { ...auth.tokens, account_id: identity.accountId };
    }
    const nowIso = new Date(this.#now()).toISOString();
    // The tokens' own time, as Codex writes it at sign-in: a kept sign-in is saved only over
    // tokens older than it (`#replaySignIn`), so every sign-in saved or kept carries one.
    auth.last_refresh ??= nowIso;
    // Signing in again to an existing profile replaces its tokens: like rename and remove it takes
    // the profile's refresh lock first (then the registry lock, the same order), so a refresh in
    // flight writes its rotation (or its permanent failure) before the new sign-in, never after.
    // A profile renamed between the look and the lock is looked up again, a bounded number of
    // times: a process renaming it in a loop gets a clear failure, not a sign-in that never ends.
    let outcome: SavedSignIn | undefined;
    for (let attempt = 0; outcome === undefined; attempt += 1) {
      if (attempt === signInLookups) {
        throw new LabError(
          'lock_timeout',
          'Another Codex Lab process kept renaming this account’s profile during the sign-in; nothing was changed, so sign in again once it is done.',
        );
      }
      const expected =
        (await this.listProfiles()).find((entry) => sameAccount(entry, identity))?.name ?? null;
      await this.#step('sign-in:looked-up');
      const save = () =>
        this.#locked(() => this.#saveSignInLocked(auth, identity, input, nowIso, expected));
      try {
        // The folders the check before the sign-in probed, probed again: one made unwritable
        // since fails here, before anything is half written.
        const unwritable = await this.unwritableSignInFolder();
        if (unwritable !== null) throw unwritableError(unwritable, null);
        outcome = expected === null ? await save() : await this.#withRefreshLock(expected, save);
      } catch (error) {
        // The sign-in is finished at the issuer: its tokens exist nowhere else, and dropping them
        // would leave the user signed in for nothing. A lock still held past the longest a
        // refresh may take (a process left stopped), or a write that failed, keeps them in the
        // journal instead (when the journal itself cannot be written, the caller revokes them).
        if (!isLabError(error) || (error.code !== 'lock_timeout' && error.code !== 'io_error')) {
          throw error;
        }
        throw await this.#keepSignIn(auth, identity, input, expected, error);
      }
    }
    await this.#signInLanded(outcome);
    return outcome;
  }

  /**
   * `saveSignIn` under the registry lock (and, for a re-login, the refresh lock of `expected`).
   * Undefined when the profile to re-authenticate is no longer the one whose lock is held.
   */
  async #saveSignInLocked(
    auth: AuthDotJson,
    identity: AuthIdentity,
    input: { requestedName: string | null; store?: StoreKind },
    nowIso: string,
    expected: string | null,
  ): Promise<SavedSignIn | undefined> {
    const registry = await this.readRegistry();
    const before = JSON.stringify(registry);
    const entries = await this.#entries(registry);
    const match = entries.find((entry) => sameAccount(entry, identity));
    if ((match?.name ?? null) !== expected) return undefined;
    // This sign-in is newer than any of the account's kept ones: once it is saved (never before,
    // so a save that fails leaves them as they are) they must never land over it.
    const saved = await this.#saveSignInTo(
      registry,
      before,
      entries,
      match,
      auth,
      identity,
      input,
      nowIso,
    );
    await this.#dropKeptSignIns(identity);
    return saved;
  }

  /** The writes of `#saveSignInLocked`: the account's profile `match`, else a new one. */
  async #saveSignInTo(
    registry: Registry,
    before: string,
    entries: ProfileEntry[],
    match: ProfileEntry | undefined,
    auth: AuthDotJson,
    identity: AuthIdentity,
    input: { requestedName: string | null; store?: StoreKind },
    nowIso: string,
  ): Promise<SavedSignIn> {
    if (match) {
      const record = registry.profiles.find((p) => p.name === match.name);
      if (input.store === 'keyring' && match.store === 'file' && !match.legacy && record) {
        // Asked for the keychain: the profile moves there. The entry first, then the registry,
        // then the file goes: a kill at any step leaves the profile readable where the registry
        // says (an entry the registry does not name yet is harmless, and is written over).
        // The registry records this very account for the profile: a file that cannot be read
        // is set aside rather than standing in the way (see `#writeSignIn`).
        const written = await this.#writeSignIn({ ...match, store: 'keyring' }, auth, identity, {
          keepFile: true,
          setAsideUnreadable: true,
        });
        Object.assign(record, identityFields(identity), signedInFields(auth), { store: 'keyring' });
        await this.#writeRegistryIfChanged(registry, before);
        // A file set aside keeps its bytes under its new name; this name goes as it always does.
        await unlink(this.#paths.profileAuth(match.name)).catch(ignoreMissing);
        return withSetAside({ name: match.name, created: false }, written.setAside);
      }
      const written = await this.#writeSignIn(match, auth, identity, { setAsideUnreadable: true });
      if (record) Object.assign(record, identityFields(identity), signedInFields(auth));
      await this.#writeRegistryIfChanged(registry, before);
      return withSetAside({ name: match.name, created: false }, written.setAside);
    }
    const names = entries.map((entry) => entry.name);
    let name: string;
    if (input.requestedName !== null && input.requestedName !== undefined) {
      const holderName = matchProfileName(input.requestedName, names);
      const holder = entries.find((entry) => entry.name === holderName);
      if (holder !== undefined && holder.email !== null && identity.email !== null) {
        // The name is another account's: most often "sign in again" done as the wrong account,
        // or as the same person in another workspace. Say which each is, so the user knows
        // which way to go.
        throw anotherAccountError(holder.name, holder, identity);
      }
      validateProfileName(input.requestedName, names);
      name = input.requestedName;
    } else {
      name = deriveProfileName(identity.email, [...names, ...reservedNames]);
    }
    // A folder whose keychain entry already keeps this account's sign-in (a keychain profile the
    // registry lost) stays a keychain profile, as a listed one does: a file beside it would leave
    // the entry's refresh token under a key no profile lists.
    const kind = input.store ?? ((await this.#keychainKeeps(name, identity)) ? 'keyring' : 'file');
    const stored = { ...newProfileRecord(name, identity, nowIso, kind), ...signedInFields(auth) };
    const record: ProfileEntry = { ...stored, legacy: false };
    // Tokens first: a registry entry never points at a profile without tokens. The journal
    // record lets a later load list tokens a kill left in an unlisted folder.
    const { journal } = await this.#writeSignIn(record, auth, identity, {
      journal: { op: 'add', record: stored },
    });
    await this.#step('add:tokens-written');
    registry.profiles.push(stored);
    await this.#writeRegistry(registry);
    if (journal !== null) await clearJournal(journal);
    return { name, created: true };
  }

  /**
   * Renames a profile: its folder, registry entry, pins, active marker, health entry and keychain
   * entry (whose key depends on the folder path). Renaming the legacy `default` moves its
   * auth.json into `auth-profiles/<to>/` (one atomic rename: never two copies of one refresh
   * token). Holds the profile's refresh lock, so a refresh in flight lands its rotated tokens
   * before the move; a journal record lets a later load finish a rename a kill interrupted.
   */
  async rename(from: string, to: string): Promise<void> {
    const current = (await this.getProfile(from)).name;
    await this.#withRefreshLock(current, () =>
      this.#locked(async () => {
        const registry = await this.readRegistry();
        const entries = await this.#entries(registry);
        const entry = findEntry(entries, from);
        if (to === entry.name) return;
        validateProfileName(
          to,
          entries.filter((other) => other.name !== entry.name).map((other) => other.name),
        );
        const targetDir = this.#paths.profileDir(to);
        if (await exists(targetDir)) {
          throw new LabError(
            'name_taken',
            `${targetDir} already exists although no profile uses it; pick another name (that folder was left as it is).`,
          );
        }
        // Last checks before anything moves: every refusal comes before the journal record.
        await this.#requireReadableHealth(`${entry.name} was not renamed`);
        const sourceDir = this.#paths.profileDir(entry.name);
        // Taken while the folder is there: a key hashes the folder's canonical path.
        const sourceKeys = this.#keysOfFolder(sourceDir);
        // A keychain profile's tokens are copied under the new folder's key: read them first, so
        // a keychain out of reach refuses the rename with nothing moved and no record left.
        const secret =
          entry.store === 'keyring' && !entry.legacy
            ? await this.#readKeychain(sourceKeys).catch((error: unknown) => {
                throw keychainRefusal(entry.name, 'was not renamed', error);
              })
            : null;
        const { legacy: _legacy, ...fields } = entry;
        const renamed: ProfileRecord = entry.legacy
          ? { ...fields, name: to, store: 'file' }
          : { ...fields, name: to };
        delete renamed.legacy;
        const journal = await this.#writeJournal({
          op: 'rename',
          from: entry.name,
          to,
          legacy: entry.legacy,
          record: renamed,
        });
        if (entry.legacy) {
          // Only auth.json moves: tokens a killed refresh left beside it are put in place first.
          await this.#adoptUnfinishedWriteOf(entry);
          await ensurePrivateDirectory(targetDir);
          await movePath(this.#paths.legacyAuth, this.#paths.profileAuth(to));
          await this.#step('rename:moved');
          applyRename(registry, entry.name, renamed);
          try {
            await this.#writeRegistry(registry);
          } catch (error) {
            await renamePath(this.#paths.profileAuth(to), this.#paths.legacyAuth).catch(
              () => undefined,
            );
            await rm(targetDir, { recursive: true, force: true }).catch(() => undefined);
            await clearJournal(journal);
            throw error;
          }
        } else {
          await ensurePrivateDirectory(this.#paths.profilesDir);
          await movePath(sourceDir, targetDir).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          });
          await this.#step('rename:moved');
          // The registry still names the old folder: put the tokens back where it looks for them
          // (the old keychain entry is only deleted once the registry names the new one), and the
          // copy under the new folder's key goes. When that fails the record stays, and a later
          // load's replay finishes the rollback once the keychain answers.
          const rollBack = async (error: unknown): Promise<never> => {
            await renamePath(targetDir, sourceDir).catch(() => undefined);
            const undone =
              secret === null ||
              (await this.#dropKeychainCopy(entry.name, to).then(
                () => true,
                () => false,
              ));
            if (undone) await clearJournal(journal);
            throw error;
          };
          if (secret !== null) {
            await ensurePrivateDirectory(targetDir);
            // A keychain that answers reads but refuses writes (locked) refuses the rename.
            await this.#requireKeyring()
              .set(this.#keysOfFolder(targetDir).key, secret)
              .catch((error: unknown) =>
                rollBack(keychainRefusal(entry.name, 'was not renamed', error)),
              );
            await this.#step('rename:copied');
          }
          applyRename(registry, entry.name, renamed);
          await this.#writeRegistry(registry).catch(rollBack);
          await this.#step('rename:registry-written');
          if (secret !== null) await this.#deleteKeychain(sourceKeys);
        }
        await this.#forgetHealth(entry.name, to);
        await clearJournal(journal);
      }),
    );
  }

  /** Deletes one profile (its folder or keychain entry, or the legacy file); clears its pins. */
  async remove(name: string): Promise<void> {
    const current = (await this.getProfile(name)).name;
    await this.#withRefreshLock(current, () =>
      this.#locked(async () => {
        const registry = await this.readRegistry();
        const entry = findEntry(await this.#entries(registry), name);
        if (entry.store === 'keyring' && !entry.legacy) {
          // Its tokens live in the keychain: with the keychain out of reach, removing it now
          // would drop it from the list and leave a live refresh token behind. Nothing moves.
          await this.#readKeychain(this.#keysOfFolder(this.#paths.profileDir(entry.name))).catch(
            (error: unknown) => {
              throw keychainRefusal(entry.name, 'was not removed', error);
            },
          );
        }
        await this.#requireReadableHealth(`${entry.name} was not removed`);
        const journal = await this.#writeJournal({
          op: 'remove',
          name: entry.name,
          keyring: entry.store === 'keyring' && !entry.legacy,
          legacy: entry.legacy,
          // A replay deletes only while the name is still this account's.
          account: { accountId: entry.accountId, email: entry.email },
        });
        await this.#completeRemove(
          registry,
          entry.name,
          entry.store === 'keyring' && !entry.legacy,
          entry.legacy,
        );
        await clearJournal(journal);
      }),
    );
  }

  /**
   * The second half of a removal (also run when replaying one): the registry forgets the profile
   * before its tokens go, so there is never an entry without tokens.
   */
  async #completeRemove(
    registry: Registry,
    name: string,
    keyring: boolean,
    legacy: boolean,
  ): Promise<void> {
    const before = JSON.stringify(registry);
    registry.profiles = registry.profiles.filter((p) => p.name !== name);
    retarget(registry, name, null);
    await this.#writeRegistryIfChanged(registry, before);
    await this.#step('remove:registry-written');
    if (legacy) {
      await unlink(this.#paths.legacyAuth).catch(ignoreMissing);
    } else {
      const dir = this.#paths.profileDir(name);
      if (keyring) await this.#deleteKeychain(await this.#keychainKeysOf(name));
      await rm(dir, { recursive: true, force: true });
    }
    await this.#forgetHealth(name);
  }

  /**
   * Refuses a rename or removal (`refused` says which, before the file's own sentence) while
   * `state/health.json` does not read, before anything moves: the file is named and left as it
   * is. Its entries are keyed by name alone (quota.json's carry an account stamp and are dropped
   * by account once that file reads again, so it need not read first; see moveProfileState): an
   * operation that went ahead could not move them, and a later profile under the name would take
   * on the marks of the account that had it.
   */
  async #requireReadableHealth(refused: string): Promise<void> {
    try {
      await new HealthStore(this.#paths).read();
    } catch (error) {
      if (!isLabError(error)) throw error;
      throw new LabError(error.code, `${refused}: ${error.message}`, {
        cause: error,
        ...(error.details ? { details: error.details } : {}),
      });
    }
  }

  /**
   * Moves (`to`) or drops a profile's health entry once its rename or removal is past the point of
   * no return. The file read just before (`#requireReadableHealth`); should it fail now (damaged
   * meanwhile, its lock held too long) it is left as it is and logged by name, and the operation
   * is still complete: reported as a failure, it used to keep its journal record, whose replay
   * later deleted whichever profile had the name by then.
   */
  async #forgetHealth(name: string, to?: string): Promise<void> {
    await new HealthStore(this.#paths).forget(name, to).catch((error: unknown) => {
      this.#logger.warn(
        {
          path: this.#paths.health,
          profile: name,
          code: isLabError(error) ? error.code : null,
        },
        'could not update the health file for a completed rename or removal; left it as it is',
      );
    });
  }

  /**
   * Why a replayed journal record written for `account` must leave the profile `name` alone, or
   * null when it may act: the registry lists `name` as another account (the name was reused, or a
   * rename took it, since the record was written), or, with `name` unlisted, the auth file at
   * `authPath` holds another account's sign-in. A file that does not read names no account and
   * stops nothing. A record without `account` (written before records kept it) may act only on a
   * name no profile has.
   */
  async #heldByAnother(
    registry: Registry,
    name: string,
    account: { accountId?: string | null; email?: string | null } | undefined,
    authPath: string,
  ): Promise<string | null> {
    const holder = (await this.#entries(registry)).find((entry) => entry.name === name);
    if (account === undefined) {
      return holder === undefined ? null : `the record does not say whose ${name} it was`;
    }
    if (holder !== undefined) {
      return sameAccount(holder, account) ? null : `${name} is another account's profile now`;
    }
    const held = await identityInFile(authPath);
    return held !== null && !sameAccount(held, account)
      ? `${authPath} holds another account's sign-in`
      : null;
  }

  /** Sets the profile new unpinned sessions use, or `auto`. */
  async setActive(nameOrAuto: string): Promise<void> {
    await this.updateRegistry(async (registry) => {
      if (isAutoName(nameOrAuto)) {
        registry.active = 'auto';
        return;
      }
      registry.active = findEntry(await this.#entries(registry), nameOrAuto).name;
    });
  }

  /**
   * Pins a session id or repo path to a profile; `profile: null` removes the pin. A session id is
   * read by `sessionPinKey` (a UUID, kept in lower case). Resolves to what changed: `changed` false,
   * writing nothing, when the pin already stands as asked (`pinStands`: it keeps its `createdAt`,
   * and the caller logs no change that was not made); `key`, the key the pin is kept under; and
   * `replaced`, the profile the key was pinned to before when that was another one (a pin moved
   * from alice to bob is said, not made silently).
   */
  async setPin(
    kind: 'session' | 'repo',
    typed: string,
    profile: string | null,
    allowFallback = false,
  ): Promise<PinChange> {
    // A session id to pin is refused before the lock is taken; an unpin's (which may name a pin
    // made before ids had to be UUIDs) is read against the registry under the lock.
    if (kind === 'session') {
      if (profile === null) checkSessionIdGiven(typed);
      else checkSessionId(typed);
    }
    return this.updateRegistry(async (registry) => {
      const pins = kind === 'session' ? registry.pins.sessions : registry.pins.repos;
      const key = kind === 'session' ? sessionPinKey(typed, pins, profile === null) : typed;
      const name = profile === null ? null : findEntry(await this.#entries(registry), profile).name;
      const before = Object.hasOwn(pins, key) ? pins[key]!.profile : null;
      const replaced = before !== null && name !== null && before !== name ? before : null;
      if (pinStands(pins, key, name, allowFallback)) return { changed: false, key, replaced: null };
      if (name === null) {
        delete pins[key];
        return { changed: true, key, replaced: null };
      }
      const pin: Pin = {
        profile: name,
        allowFallback,
        createdAt: new Date(this.#now()).toISOString(),
      };
      pins[key] = pin;
      return { changed: true, key, replaced };
    });
  }

  /** Changes a profile's priming settings. */
  async setPriming(name: string, patch: Partial<ProfileRecord['priming']>): Promise<void> {
    await this.updateRegistry(async (registry) => {
      const record = await this.#recordFor(registry, name);
      record.priming = { ...record.priming, ...patch };
    });
  }

  /** Records that a profile was just used; skipped when it was recorded within the last minute. */
  async touch(name: string): Promise<void> {
    const now = this.#now();
    const recent = (registry: Registry) => {
      const last = registry.profiles.find((p) => p.name === name)?.lastUsedAt;
      return last != null && now - Date.parse(last) < lastUseIntervalMs;
    };
    const registry = await this.readRegistry();
    // An unlisted legacy profile is not worth a registry entry just for this.
    if (!registry.profiles.some((p) => p.name === name) || recent(registry)) return;
    await this.updateRegistry((fresh) => {
      const record = fresh.profiles.find((p) => p.name === name);
      if (record && !recent(fresh)) record.lastUsedAt = new Date(now).toISOString();
    });
  }

  // --- internals -------------------------------------------------------------------------------

  #locked<T>(operation: () => Promise<T>): Promise<T> {
    return withLock(
      this.#paths.locksDir,
      'registry',
      async () => {
        await this.#replay();
        await this.#rebuildLostRegistry();
        return operation();
      },
      this.#lock,
    );
  }

  /** Takes a profile's refresh lock (the one TokenManager refreshes under), then runs `operation`. */
  #withRefreshLock<T>(name: string, operation: () => Promise<T>): Promise<T> {
    return withLock(this.#paths.locksDir, `refresh-${name}`, operation, {
      ...this.#lock,
      waitMs: this.#refreshLockWaitMs,
      // The wait may last minutes (a refresh's answer, or a holder left stopped): said at once.
      waiting: (pid) => this.#logger.warn({}, refreshLockWaitText(name, pid)),
    });
  }

  /** Replays every journal record (registry lock held): complete or roll back, then clear. */
  async #replay(): Promise<void> {
    // What a kill between an atomic write and its rename left in state/ (a state file never
    // replaced): removed once old enough that no write can still be under way. Never in the
    // journal: a `recovered` record's leftover may hold the only copy of a rotated refresh token.
    const dir = this.#paths.stateDir;
    const removed = await removeStaleTempFiles(dir, this.#now(), staleTempFileMs);
    if (removed.length > 0) this.#logger.info({ dir, removed }, 'removed stale temp files');
    // The registry's own, beside it in the home (written under this lock, holding no token); not
    // the legacy auth.json's there, which the refresh lock adopts.
    const home = this.#paths.home;
    const registryLeftovers = await removeStaleTempFiles(
      home,
      this.#now(),
      staleTempFileMs,
      basename(this.#paths.registry),
    );
    if (registryLeftovers.length > 0) {
      this.#logger.info({ dir: home, removed: registryLeftovers }, 'removed stale temp files');
    }
    const unreadable: string[] = [];
    const records = [
      // Records set aside earlier first: one a newer version wrote is read after an upgrade.
      ...(await readJournal(unreadableJournalDir(this.#paths.journalDir), () => undefined)),
      ...(await readJournal(this.#paths.journalDir, (path) => unreadable.push(path))),
    ];
    for (const path of unreadable) {
      // Kept, content untouched, where `unreadableRecords` reports it by name on every listing.
      const aside = await setAsideJournal(path).catch(() => path);
      this.#logger.warn({ path: aside }, 'set aside an unreadable journal record');
    }
    for (const { path, entry } of records) {
      try {
        const keep = await this.#replayOne(path, entry);
        this.#replayFailures.delete(path);
        if (!keep) await clearJournal(path);
      } catch (error) {
        this.#replayFailures.set(path, error);
        if (entry.op === 'rename' && isLabError(error) && error.code === 'keyring_unavailable') {
          // A rename's rollback waiting for the keychain: its profile reads where the registry
          // says meanwhile, so this is no news for every command; the rollback is said once done.
          this.#logger.debug(
            { path, op: entry.op, code: error.code },
            'a rename is rolled back once the OS keychain answers',
          );
          continue;
        }
        this.#logger.error(
          // The error's sentence says why (a keychain out of reach, a corrupt file by name).
          { path, op: entry.op, err: error },
          'could not replay a journal record; it was kept for the next load',
        );
      }
    }
  }

  /** Replays one record; true when it must stay (its tokens found no profile yet). */
  async #replayOne(path: string, entry: JournalEntry): Promise<boolean> {
    const registry = await this.readRegistry();
    const before = JSON.stringify(registry);
    const listed = (name: string) => registry.profiles.some((p) => p.name === name);
    switch (entry.op) {
      case 'rename': {
        const source = entry.legacy ? this.#paths.legacyAuth : this.#paths.profileDir(entry.from);
        const target = entry.legacy
          ? this.#paths.profileAuth(entry.to)
          : this.#paths.profileDir(entry.to);
        // Either name held by another account now: what is there is not this rename's to move,
        // list or delete.
        const other =
          (await this.#heldByAnother(
            registry,
            entry.from,
            entry.record,
            entry.legacy ? source : this.#paths.profileAuth(entry.from),
          )) ??
          (await this.#heldByAnother(
            registry,
            entry.to,
            entry.record,
            this.#paths.profileAuth(entry.to),
          ));
        if (other !== null) {
          this.#logger.warn(
            { from: entry.from, to: entry.to, reason: other },
            'dropped an interrupted rename: its profile is another account now',
          );
          break;
        }
        if (listed(entry.to)) {
          // The registry was written: only the old keychain entry may be left to delete, unless
          // a profile has the old name again (that key is its entry now).
          if (entry.record.store === 'keyring' && this.#keyring && !listed(entry.from)) {
            await this.#deleteKeychain(await this.#keychainKeysOf(entry.from));
          }
          break;
        }
        const moved = (await exists(target)) && !(await exists(source));
        if (moved && entry.record.store !== 'keyring') {
          applyRename(registry, entry.from, entry.record);
          await this.#writeRegistryIfChanged(registry, before);
          await this.#forgetHealth(entry.from, entry.to);
          this.#logger.warn({ from: entry.from, to: entry.to }, 'completed an interrupted rename');
        } else if (entry.record.store === 'keyring' && !entry.legacy) {
          // A keychain profile's old entry still exists: moving the folder back restores it. The
          // copy the rename may have made under the new folder's key goes too (a live refresh
          // token under a key no profile uses); with the keychain out of reach this throws, and
          // the record stays for the next load.
          if (moved) {
            await renamePath(target, source);
            this.#logger.warn(
              { from: entry.from, to: entry.to },
              'rolled back an interrupted rename',
            );
          }
          await this.#dropKeychainCopy(entry.from, entry.to);
        } else if (entry.legacy) {
          await rm(this.#paths.profileDir(entry.to), { recursive: true, force: true });
        }
        break;
      }
      case 'remove': {
        const other = await this.#heldByAnother(
          registry,
          entry.name,
          entry.account,
          entry.legacy ? this.#paths.legacyAuth : this.#paths.profileAuth(entry.name),
        );
        if (other !== null) {
          // Deleting by name would take that account's sign-in: removing it again is the user's
          // call, losing another account's tokens is not undone.
          this.#logger.warn(
            { profile: entry.name, reason: other },
            'dropped an interrupted removal: its profile is another account now',
          );
          break;
        }
        await this.#completeRemove(registry, entry.name, entry.keyring, entry.legacy);
        this.#logger.warn({ profile: entry.name }, 'completed an interrupted removal');
        break;
      }
      case 'add': {
        if (listed(entry.record.name)) break;
        const entryOf: ProfileEntry = { ...entry.record, legacy: false };
        // Only a read that finds nothing means no tokens were written. A keychain out of reach
        // tells nothing (the record stays for the next load); a broken file is listed, so that
        // reading it reports it by name, never deleted with whatever it holds.
        const hasTokens = await this.#readAuthOf(entryOf).then(
          () => true,
          (error: unknown) => {
            if (isLabError(error) && error.code === 'keyring_unavailable') throw error;
            return !(isLabError(error) && error.code === 'not_signed_in');
          },
        );
        if (hasTokens) {
          registry.profiles.push(entry.record);
          await this.#writeRegistry(registry);
          this.#logger.warn({ profile: entry.record.name }, 'completed an interrupted sign-in');
        } else {
          await rm(this.#paths.profileDir(entry.record.name), { recursive: true, force: true });
        }
        break;
      }
      case 'recovered':
        return this.#adoptRecovered(registry, entry);
      case 'signin':
        return this.#replaySignIn(path, entry);
    }
    return false;
  }

  /**
   * Keeps a finished sign-in whose profile stayed locked, or whose save failed to write (`cause`),
   * in the journal, and returns the error that says so (`details.kept`): the next load saves it
   * under the profile's refresh lock (`#replaySignIn`). When the journal cannot be written either,
   * returns `cause` as it is (not kept).
   */
  async #keepSignIn(
    auth: AuthDotJson,
    identity: AuthIdentity,
    input: { requestedName: string | null; store?: StoreKind },
    expected: string | null,
    cause: LabError,
  ): Promise<LabError> {
    let path: string;
    try {
      path = await this.#writeJournal({
        op: 'signin',
        requestedName:
          input.requestedName !== null && profileNamePattern.test(input.requestedName)
            ? input.requestedName
            : null,
        profile: expected,
        ...(input.store === undefined ? {} : { store: input.store }),
        accountId: identity.accountId,
        email: identity.email,
        auth,
      });
    } catch {
      return cause;
    }
    const who = identity.email ?? identity.accountId ?? 'this account';
    if (cause.code !== 'lock_timeout') {
      this.#logger.warn({ profile: expected, path }, 'kept a sign-in that could not be saved');
      return new LabError(
        cause.code,
        `The sign-in as ${who} could not be saved (${withoutSentenceEnd(cause.message)}); it was kept in ${path}, not lost, and the next codex-lab command (or the running router) saves it once that is fixed.`,
        { cause, details: { path, kept: true } },
      );
    }
    this.#logger.warn(
      { profile: expected, path },
      'kept a sign-in its locked profile could not take',
    );
    return new LabError(
      'lock_timeout',
      `The sign-in as ${who} was kept in ${path}, not lost: ${expected === null ? 'the profiles' : `profile ${expected}`} stayed locked by another Codex Lab process, and the next codex-lab command (or the running router) saves it once that process lets go.`,
      { cause, details: { path, kept: true } },
    );
  }

  /**
   * Saves a kept sign-in (registry lock held) under its profile's refresh lock, taken only if free
   * (the locks' order is refresh, then registry: waiting here could deadlock with a rename), so it
   * never writes beside a refresh in flight. True when it must stay for a later load.
   */
  async #replaySignIn(
    path: string,
    entry: Extract<JournalEntry, { op: 'signin' }>,
  ): Promise<boolean> {
    const auth = normalizeAuth(entry.auth);
    const identity = identityFromAuth(auth);
    // A newer kept sign-in of the account (records sort oldest first) is the one to save.
    const kept = await readJournal(this.#paths.journalDir, () => undefined);
    if (
      kept.some(
        (record) =>
          record.entry.op === 'signin' &&
          sameAccount(record.entry, identity) &&
          basename(record.path) > basename(path),
      )
    ) {
      return false;
    }
    const entries = await this.#entries(await this.readRegistry());
    const expected = entries.find((candidate) => sameAccount(candidate, identity))?.name ?? null;
    if (expected === null && typeof entry.profile === 'string') {
      // It signed in to a profile the user has removed since: making it a new profile would
      // bring back what was removed.
      this.#logger.warn(
        { profile: entry.profile, path },
        'dropped a kept sign-in: its profile was removed since',
      );
      return false;
    }
    // A name another profile took meanwhile is not asked for again: the sign-in gets its own.
    const requestedName =
      expected === null &&
      entry.requestedName !== null &&
      matchProfileName(
        entry.requestedName,
        entries.map((candidate) => candidate.name),
      ) === null
        ? entry.requestedName
        : null;
    const input = { requestedName, ...(entry.store === undefined ? {} : { store: entry.store }) };
    const nowIso = auth.last_refresh ?? new Date(this.#now()).toISOString();
    // Checked under the locks the save takes, so no refresh writes between the look and the save.
    const save = async () =>
      expected !== null && (await this.#holdsNewerThan(expected, identity, auth))
        ? superseded
        : this.#saveSignInLocked(auth, identity, input, nowIso, expected);
    let saved: SavedSignIn | typeof superseded | undefined;
    try {
      // Held by anyone, this process included (a rename or removal of that profile replays the
      // journal under it, a refresh may be in flight): not taken, the record stays for later.
      saved =
        expected === null
          ? await save()
          : await withLock(this.#paths.locksDir, `refresh-${expected}`, save, {
              ...this.#lock,
              waitMs: 0,
            });
    } catch (error) {
      if (isLabError(error) && error.code === 'lock_timeout') return true;
      throw error;
    }
    if (saved === undefined) return true;
    if (saved === superseded) {
      // Saved already (its record could not be deleted then), or the profile was refreshed or
      // signed in again since: saving it would put back older tokens, maybe a spent refresh token.
      this.#logger.warn(
        { profile: expected, path },
        'dropped a kept sign-in: its profile holds newer tokens',
      );
      return false;
    }
    this.#logger.warn({ profile: saved.name }, 'saved a sign-in kept while its profile was locked');
    await this.#signInLanded(saved);
    return false;
  }

  /**
   * True when profile `name`, still `identity`'s account, holds tokens a kept sign-in `auth` must
   * not replace: the very same ones, or ones at least as new (`keptSignInIsNewer`). A profile that
   * is another's now, or cannot be read, is left to the save (which looks again and says why).
   */
  async #holdsNewerThan(name: string, identity: AuthIdentity, auth: AuthDotJson): Promise<boolean> {
    const entry = (await this.#entries(await this.readRegistry())).find(
      (candidate) => candidate.name === name && sameAccount(candidate, identity),
    );
    if (entry === undefined) return false;
    let held: AuthDotJson;
    try {
      held = await this.#readAuthOf(entry);
    } catch (error) {
      // A keychain out of reach tells nothing: the record stays for the next load.
      if (isLabError(error) && error.code === 'keyring_unavailable') throw error;
      return false;
    }
    return !keptSignInIsNewer(auth, held, entry.signedInAt);
  }

  /**
   * A sign-in saved (now, or replayed from the journal) for `saved`: signing in again is the cure
   * for auth_error, so that mark becomes ok as of now (a router takes a health entry only when it
   * is newer than its own mark); a quota limit is the account's and stays. The sign-in is saved
   * whatever happens here: a health file that cannot be written is logged and left as it is.
   */
  async #signInLanded(saved: SavedSignIn): Promise<void> {
    if (saved.created) return;
    const health = new HealthStore(this.#paths);
    try {
      if ((await health.read()).profiles[saved.name]?.status === 'auth_error') {
        await health.markOk(saved.name, this.#now());
      }
    } catch (error) {
      this.#logger.warn(
        {
          path: this.#paths.health,
          profile: saved.name,
          code: isLabError(error) ? error.code : null,
        },
        'could not mark a profile healthy after its sign-in; left the health file as it is',
      );
    }
  }

  /**
   * Deletes the kept sign-ins (`#keepSignIn`) of `identity`'s account: a sign-in being saved is
   * newer than each of them. One that cannot be deleted is logged and left: the sign-in is saved
   * all the same, and a later load drops the record unsaved, since the profile holds newer tokens.
   */
  async #dropKeptSignIns(identity: AuthIdentity): Promise<void> {
    if (!(await journalPending(this.#paths.journalDir))) return;
    for (const record of await readJournal(this.#paths.journalDir, () => undefined)) {
      if (record.entry.op === 'signin' && sameAccount(record.entry, identity)) {
        await clearJournal(record.path).catch((error: unknown) =>
          this.#logger.warn(
            { path: record.path, err: error },
            'could not delete a kept sign-in older than the one saved; a later load drops it',
          ),
        );
      }
    }
  }

  /**
   * Undoes the keychain half of a rename from `from` to `to` that is rolled back: deletes the
   * entry under the `to` folder's key (either of them on Windows: an older version's rename made
   * its copy under the older one) when it holds exactly what `from`'s entry holds (the copy the
   * rename made). Anything else there is not the rename's: it is left alone. Throws when the
   * keychain cannot be reached.
   */
  async #dropKeychainCopy(from: string, to: string): Promise<void> {
    const keyring = this.#requireKeyring();
    const held = await this.#readKeychain(await this.#keychainKeysOf(from));
    if (held === null) return;
    const copyKeys = await this.#keychainKeysOf(to);
    for (const copyKey of [copyKeys.key, copyKeys.former]) {
      if (copyKey === null || (await keyring.get(copyKey)) !== held) continue;
      await keyring.delete(copyKey);
      this.#logger.info({ from, to }, 'deleted the keychain copy a rolled-back rename had made');
    }
  }

  /** The keychain keys of the profile folder `dir`, which must exist to be canonicalized. */
  #keysOfFolder(dir: string): KeychainKeys {
    return {
      key: keyringAccountFor(dir, this.#platform),
      former: formerKeyringAccountFor(dir, this.#platform),
    };
  }

  /**
   * The keychain keys of the profile folder `name`, also once the folder is gone: a key hashes the
   * folder's canonical path, which for a folder that no longer exists is its parent's canonical
   * path joined with the name (the path it had).
   */
  async #keychainKeysOf(name: string): Promise<KeychainKeys> {
    const dir = this.#paths.profileDir(name);
    if (await exists(dir)) return this.#keysOfFolder(dir);
    const parent = await realpath(this.#paths.profilesDir).catch(() => this.#paths.profilesDir);
    // That path is canonical already: taken as it is, as Codex would have found it.
    const had = join(parent, name);
    const asCanonical = (path: string) => path;
    return {
      key: keyringAccountFor(had, this.#platform, asCanonical),
      former: formerKeyringAccountFor(had, this.#platform, asCanonical),
    };
  }

  /**
   * The text of a profile folder's keychain entry under `keys`, or null when there is none; the
   * one read of a profile's entry. On Windows an entry an older version kept under the former key
   * is read from there while Codex's own key is empty. A read never moves it: a reader holds no
   * lock, and a reader paused between reading the former entry and writing it under Codex's key
   * would put back a refresh token that a refresh in another process had already spent. The
   * entry moves at its next write (`#writeAuthOf`: a renewal or a sign-in, each under its lock),
   * which writes Codex's key first and then deletes the former one. Throws when the keychain
   * cannot be read.
   */
  async #readKeychain(
    keys: KeychainKeys,
    keyring: KeyringPort = this.#requireKeyring(),
  ): Promise<string | null> {
    const text = await keyring.get(keys.key);
    if (text !== null || keys.former === null) return text;
    const former = await keyring.get(keys.former);
    if (former !== null) return former;
    // A write may have moved it between the two reads (Codex's key written, then the former
    // deleted): Codex's key holds it now.
    return keyring.get(keys.key);
  }

  /** Deletes a profile folder's keychain entry under each of its `keys`. */
  async #deleteKeychain(keys: KeychainKeys): Promise<void> {
    const keyring = this.#requireKeyring();
    await keyring.delete(keys.key);
    if (keys.former !== null) await keyring.delete(keys.former);
  }

  /**
   * Deletes what an older version kept under the former key (Windows), once Codex's key holds the
   * tokens just written: the spent copy must not outlive the move. A refusal only leaves the spent
   * copy there (Codex's key is read first; a removal deletes both), so it is logged, not thrown.
   */
  async #deleteFormerEntry(keys: KeychainKeys): Promise<void> {
    if (keys.former === null) return;
    try {
      if ((await this.#requireKeyring().get(keys.former)) === null) return;
      await this.#requireKeyring().delete(keys.former);
      this.#logger.info(
        { from: keys.former, to: keys.key },
        'moved a keychain entry to the key Codex reads on Windows',
      );
    } catch (error) {
      this.#logger.warn(
        { from: keys.former, to: keys.key, err: error },
        'could not delete a keychain entry under the key older versions used on Windows',
      );
    }
  }

  /**
   * True when the registry file is missing (not unreadable: a broken file or a dangling link is
   * reported, never rebuilt) while a profile folder with a valid name holds an auth file, or, with
   * a keychain at hand, holds none (a keychain profile's, maybe). Cheap: one lstat when the
   * registry is there.
   */
  async #registryLost(): Promise<boolean> {
    try {
      await lstat(this.#paths.registry);
      return false;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    // Only a folder that can be adopted: others are reported, not worth the lock on every load.
    const folders = await this.#unlistedFolders(emptyRegistry());
    if (folders.some((folder) => profileNamePattern.test(folder.name))) return true;
    return this.#keyring !== undefined && (await this.#foldersWithoutAuth()).length > 0;
  }

  /**
   * Rebuilds a missing registry from the profile folders (registry lock held): each folder with an
   * auth file and a valid name becomes a file profile of that name, its account read from the
   * auth file's id token. Without this, deleting `auth-profiles.json` hid every profile, and a
   * sign-in under a hidden profile's name treated it as new. Settings the registry held (active
   * profile, pins, labels, priming) are gone with it, which the log says. Writes nothing when the
   * registry file exists, readable or not.
   *
   * A folder without an auth file may be a keychain profile's: it is never listed here, since the
   * folder alone does not say it is this home's profile; once the registry exists, every load
   * reports it while its keychain entry keeps a sign-in (`unlistedProfiles`, the one rule for
   * sign-ins the registry does not list). With no folder holding an auth file, the registry is
   * written (empty) only once the keychain could be read for those folders; while it is out of
   * reach nothing is written, that is said, and the next load tries again.
   */
  async #rebuildLostRegistry(): Promise<void> {
    if ((await readJsonFile(this.#paths.registry, registrySchema)) !== undefined) return;
    const legacy = await this.#legacyEntry();
    const adopted = (await this.#unlistedFolders(emptyRegistry())).filter(
      // A folder named `default` would hide the legacy auth.json listed under that name.
      (folder) =>
        profileNamePattern.test(folder.name) &&
        !(legacy !== null && folder.name === legacyProfileName),
    );
    this.#lostRegistry = { rebuilt: null, problems: [] };
    if (adopted.length === 0) {
      const { unchecked, detail, checked } = await this.#keychainOnlyFolders(emptyRegistry());
      if (unchecked.length > 0) {
        const problem = new LabError(
          'keyring_unavailable',
          `${this.#paths.registry} is missing, and the OS keychain could not be read (${detail}) to tell whether it keeps a sign-in for ${unchecked.join(', ')}, which hold no auth file, so the registry was not rebuilt yet: unlock the keychain, and it is rebuilt the next time Codex Lab reads its profiles.`,
          { details: { path: unchecked[0]! } },
        );
        this.#lostRegistry.problems.push(problem);
        this.#logger.warn({ path: unchecked[0] }, problem.message);
        return;
      }
      // Nothing to list and nothing to say: no registry is written for a home without folders.
      if (checked === 0) return;
    }
    const registry = emptyRegistry();
    for (const folder of adopted) {
      registry.profiles.push(
        newProfileRecord(folder.name, folder.identity, folder.createdAt, 'file'),
      );
    }
    await this.#writeRegistry(registry);
    const names = adopted.map((folder) => folder.name);
    const rebuilt =
      names.length === 0
        ? `${this.#paths.registry} was missing: no profile folder holds an auth file, so it was rebuilt empty; the active profile, pins, labels and priming settings it held are gone`
        : `${this.#paths.registry} was missing: rebuilt it from the profile folders (${names.join(', ')}); the active profile, pins, labels and priming settings it held are gone`;
    this.#lostRegistry.rebuilt = rebuilt;
    this.#logger.warn({ profiles: names }, rebuilt);
    // The folders it could not list are said here too, for a surface whose only report is its
    // log; every later load says them again until they are listed or gone.
    for (const problem of await this.unlistedProfiles()) {
      this.#logger.warn({ path: problem.details?.['path'] }, problem.message);
    }
  }

  /**
   * What this store's rebuild of a lost registry did, for a command to say (the store's logger
   * says it too): `rebuilt`, the sentence naming what it rebuilt (null when it wrote none), and
   * `problems`: folders without an auth file whose keychain entry could not be read, so the
   * registry was not rebuilt yet (`keyring_unavailable`). Folders the registry does not list are
   * reported by `unlistedProfiles` on every load, not here.
   */
  async lostRegistryReport(): Promise<{ rebuilt: string | null; problems: LabError[] }> {
    const { rebuilt, problems } = this.#lostRegistry;
    if (problems.length === 0 || !(await exists(this.#paths.registry))) {
      return { rebuilt, problems };
    }
    // Rebuilt since by another load: that load's registry and `unlistedProfiles` say the rest.
    return { rebuilt, problems: [] };
  }

  /** Profile folders with a valid name and no auth file (keychain profiles' folders, maybe). */
  async #foldersWithoutAuth(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#paths.profilesDir);
    } catch {
      return [];
    }
    const found: string[] = [];
    for (const name of names.sort()) {
      if (!profileNamePattern.test(name)) continue;
      const dir = this.#paths.profileDir(name);
      const folder = await lstat(dir).catch(() => undefined);
      if (!folder?.isDirectory()) continue;
      if ((await lstat(join(dir, 'auth.json')).catch(() => undefined)) !== undefined) continue;
      found.push(name);
    }
    return found;
  }

  /**
   * Reads the keychain entry of each folder without an auth file that `registry` does not list:
   * those that hold a sign-in, as `unlisted_profile` (with how to list it again), and those whose
   * entry could not be read, as `keyring_unavailable` (also `unchecked`, with what the keychain
   * said, `detail`); `checked`, how many such folders there were. The keychain is read only when
   * there is such a folder.
   */
  async #keychainOnlyFolders(registry: Registry): Promise<{
    found: LabError[];
    unchecked: string[];
    detail: string;
    checked: number;
  }> {
    const listed = new Set(registry.profiles.map((profile) => profile.name.toLowerCase()));
    const folders =
      this.#keyring === undefined
        ? []
        : (await this.#foldersWithoutAuth()).filter((name) => !listed.has(name.toLowerCase()));
    // Every entry is read at once, under one deadline (the command's, else this load's own): a
    // keychain that hangs costs one wait, not one per folder. What each says is kept in the
    // folders' order.
    const keyring =
      this.#keychainDeadline === undefined && this.#keyring !== undefined
        ? keyringWithin(this.#keyring, new KeychainDeadline(this.#clock))
        : this.#keyring;
    const read = await Promise.all(
      folders.map(async (name) => {
        const keys = this.#keysOfFolder(this.#paths.profileDir(name));
        const key = keys.key;
        try {
          const text = await this.#readKeychain(keys, keyring ?? this.#requireKeyring());
          return {
            name,
            held: text === null ? null : parseAuthText(`the keychain entry ${key}`, text),
          };
        } catch (error) {
          return { name, error };
        }
      }),
    );
    const found: LabError[] = [];
    const unchecked: string[] = [];
    let detail = '';
    for (const outcome of read) {
      const name = outcome.name;
      const dir = this.#paths.profileDir(name);
      if ('error' in outcome) {
        const error = outcome.error;
        if (isLabError(error) && error.code === 'keyring_unavailable') {
          unchecked.push(dir);
          detail = keyringFailureDetail(error);
          found.push(
            new LabError(
              'keyring_unavailable',
              `${dir} has no auth file and auth-profiles.json does not list it, and the OS keychain could not be read (${detail}) to tell whether it keeps a sign-in for it: unlock the keychain, and the next look at the profiles says.`,
              { details: { path: dir, name } },
            ),
          );
        }
        continue;
      }
      if (!outcome.held?.tokens) continue;
      const email = identityFromAuth(outcome.held).email;
      found.push(
        new LabError(
          'unlisted_profile',
          `${dir} has no auth file, but the OS keychain keeps the sign-in of ${email ?? 'an account'} for it, which auth-profiles.json does not list.`,
          { details: { path: dir, name }, fix: { action: 'add_account', name, email } },
        ),
      );
    }
    return { found, unchecked, detail, checked: folders.length };
  }

  /**
   * The profile folders with an auth file (a link counts: reading it reports it) that `registry`
   * does not list, by name, each with the account its auth file names when it can be read.
   */
  async #unlistedFolders(
    registry: Registry,
  ): Promise<Array<{ name: string; identity: AuthIdentity | null; createdAt: string }>> {
    let names: string[];
    try {
      names = await readdir(this.#paths.profilesDir);
    } catch {
      return [];
    }
    const listed = new Set(registry.profiles.map((profile) => profile.name.toLowerCase()));
    const found: Array<{ name: string; identity: AuthIdentity | null; createdAt: string }> = [];
    for (const name of names.sort()) {
      if (listed.has(name.toLowerCase())) continue;
      const path = join(this.#paths.profileDir(name), 'auth.json');
      let createdAt: string;
      try {
        const info = await lstat(path);
        if (info.isDirectory()) continue;
        createdAt = info.mtime.toISOString();
      } catch {
        continue;
      }
      // Listed even when unreadable: reading its tokens then reports the broken file by name.
      found.push({ name, identity: await identityInFile(path), createdAt });
    }
    return found;
  }

  /**
   * Writes recovered tokens to the profile (found by identity) that still holds the token they
   * replace. The record goes only once that is known to be no profile: every candidate was read
   * and holds another token, or none (`not_signed_in`), or the registry lists none of the account.
   * A read that shows nothing (the keychain out of reach or locked, a broken file) keeps it: the
   * first such failure is thrown, so the replay keeps the record for the next load and says why.
   * A write that fails is thrown as well.
   */
  async #adoptRecovered(
    registry: Registry,
    entry: Extract<JournalEntry, { op: 'recovered' }>,
  ): Promise<boolean> {
    const candidates = (await this.#entries(registry)).filter((candidate) =>
      sameAccount(candidate, entry),
    );
    // A lost registry is rebuilt right after the replay: the next load finds the profile listed.
    if (candidates.length === 0 && !(await exists(this.#paths.registry))) return true;
    let unread: unknown;
    for (const candidate of candidates) {
      let current: AuthDotJson;
      try {
        current = await this.#readAuthOf(candidate);
      } catch (error) {
        if (!isLabError(error) || error.code !== 'not_signed_in') unread ??= error;
        continue;
      }
      const token = current.tokens?.refresh_token;
      if (token !== undefined && tokenDigest(token) === entry.replaces) {
        await this.#writeAuthOf(candidate, entry.auth);
        this.#logger.warn(
          { profile: candidate.name },
          'saved refreshed tokens that an earlier write could not',
        );
        return false;
      }
    }
    if (unread !== undefined) throw unread;
    // No profile still holds the replaced token: it was signed in again or removed since, so
    // these tokens are older than what is on disk (or belong to a removed profile).
    this.#logger.warn({ profile: entry.profile }, 'dropped recovered tokens no profile needs');
    return false;
  }

  /**
   * Refuses (throws) when a `recovered` record still waits to replace the refresh token `entry`
   * holds now: spending that token would be a reuse, which ends the account's sign-in. The error
   * is what stopped the record's last replay in this process (a keychain out of reach, a full
   * disk), naming the record.
   */
  async #refuseReplacedToken(entry: ProfileEntry): Promise<void> {
    if (!(await journalPending(this.#paths.journalDir))) return;
    const pending = (await readJournal(this.#paths.journalDir, () => undefined)).filter(
      (record) => record.entry.op === 'recovered' && sameAccount(entry, record.entry),
    );
    if (pending.length === 0) return;
    let current: AuthDotJson;
    try {
      current = await this.#readAuthOf(entry);
    } catch {
      // Nothing to spend: the refresh reads the same tokens next, and reports why it cannot.
      return;
    }
    const token = current.tokens?.refresh_token;
    const digest = token === undefined ? null : tokenDigest(token);
    const waiting = pending.find(
      (record) => record.entry.op === 'recovered' && record.entry.replaces === digest,
    );
    if (waiting === undefined) return;
    const cause = this.#replayFailures.get(waiting.path);
    const detail = isLabError(cause) ? ` (${keyringFailureDetail(cause)})` : '';
    this.#logger.warn(
      { profile: entry.name, path: waiting.path },
      'not refreshing: tokens kept in the journal replace the refresh token on disk',
    );
    throw new LabError(
      isLabError(cause) ? cause.code : 'io_error',
      `${entry.name} was refreshed earlier, but its new tokens could not be saved and are kept in ${waiting.path}${detail}; Codex Lab does not refresh ${entry.name} again until they are saved, since the token it holds now is spent.`,
      { cause, details: { path: waiting.path } },
    );
  }

  async #writeRegistry(registry: Registry): Promise<void> {
    await writeJsonFile(this.#paths.registry, registry, { effects: this.#files });
  }

  async #writeRegistryIfChanged(registry: Registry, before: string): Promise<void> {
    if (JSON.stringify(registry) !== before) await this.#writeRegistry(registry);
  }

  async #entries(registry: Registry): Promise<ProfileEntry[]> {
    const entries: ProfileEntry[] = registry.profiles.map((record) => ({
      ...record,
      legacy: record.legacy === true,
    }));
    if (!registry.profiles.some((p) => p.name === legacyProfileName)) {
      const legacy = await this.#legacyEntry();
      if (legacy) entries.push(legacy);
    }
    return entries;
  }

  /** The unlisted legacy auth.json as an entry: read only, never written here. */
  async #legacyEntry(): Promise<ProfileEntry | null> {
    const path = this.#paths.legacyAuth;
    let createdAt: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      createdAt = info.mtime.toISOString();
    } catch {
      return null;
    }
    // A broken legacy file is still listed, so that reading its tokens reports it by name.
    const identity = await identityInFile(path);
    return { ...newProfileRecord(legacyProfileName, identity, createdAt, 'file'), legacy: true };
  }

  /** The registry record for `name`, adding one for the unlisted legacy profile if needed. */
  async #recordFor(registry: Registry, name: string): Promise<ProfileRecord> {
    const entry = findEntry(await this.#entries(registry), name);
    const existing = registry.profiles.find((p) => p.name === entry.name);
    if (existing) return existing;
    const { legacy: _legacy, ...fields } = entry;
    const record: ProfileRecord = { ...fields, legacy: true };
    registry.profiles.push(record);
    return record;
  }

  #authPathOf(entry: ProfileEntry): string {
    return entry.legacy ? this.#paths.legacyAuth : this.#paths.profileAuth(entry.name);
  }

  /**
   * Writes a profile's tokens where its store kind says. `keepFile` leaves an auth.json beside a
   * new keychain entry (a profile moving to the keychain drops its file only once the registry
   * names the keychain).
   */
  async #writeAuthOf(
    entry: ProfileEntry,
    auth: AuthDotJson,
    options: { keepFile?: boolean; lease?: LockLease } = {},
  ): Promise<void> {
    const normalized = normalizeAuth(auth);
    if (entry.store === 'keyring' && !entry.legacy) {
      const dir = this.#paths.profileDir(entry.name);
      // The folder must exist before the key is derived: the key hashes its canonical path.
      await ensurePrivateDirectory(dir);
      const keys = this.#keysOfFolder(dir);
      await this.#requireKeyring().set(keys.key, JSON.stringify(normalized));
      await this.#deleteFormerEntry(keys);
      // Codex's keyring mode keeps no file beside the keychain entry.
      if (options.keepFile !== true) {
        await unlink(this.#paths.profileAuth(entry.name)).catch(ignoreMissing);
      }
      return;
    }
    await writeJsonFile(this.#authPathOf(entry), normalized, {
      effects: this.#files,
      holdsTokens: true,
      ...(options.lease === undefined ? {} : { lease: options.lease }),
    });
  }

  /** Writes a journal record (as this store writes its files) and returns its path. */
  #writeJournal(entry: JournalEntry): Promise<string> {
    return writeJournal(this.#paths.journalDir, entry, this.#files);
  }

  /**
   * The one write of a sign-in's tokens. Whatever the registry says (it may be missing, or edited
   * by hand), what is saved where the tokens go is read first: the profile's auth file (which a
   * keychain write deletes) and, for the keychain, its entry. Another account's tokens there are
   * never replaced, since they may be that account's only sign-in: `name_taken` naming it, and
   * nothing (not even the `journal` record, written only once the check passes) is written. A
   * broken file there is reported by name and left as it is. Returns the journal record's path.
   */
  async #writeSignIn(
    entry: ProfileEntry,
    auth: AuthDotJson,
    identity: AuthIdentity,
    options: { keepFile?: boolean; journal?: JournalEntry; setAsideUnreadable?: boolean } = {},
  ): Promise<{ journal: string | null; setAside: string | null }> {
    const saved: AuthDotJson[] = [];
    let inKeychain: { key: string; auth: AuthDotJson } | undefined;
    const path = this.#authPathOf(entry);
    let file: AuthDotJson | undefined;
    let setAside: string | null = null;
    try {
      file = await readAuthFile(path);
    } catch (error) {
      // Nobody can tell whose tokens a file that cannot be read holds, so it is written over for
      // no one. The caller allows setting it aside only when the registry records the signing-in
      // account for this profile: then the file is kept whole under a new name (its bytes may
      // still hold a refresh token the user wants back) and the fresh tokens take its place.
      if (!options.setAsideUnreadable || !isLabError(error) || !unreadableTokens(error)) {
        throw error;
      }
      setAside = await this.#setAsideUnreadable(entry.name, path);
    }
    if (file !== undefined) saved.push(file);
    const dir = this.#paths.profileDir(entry.name);
    const toKeychain = entry.store === 'keyring' && !entry.legacy;
    // A folder without an auth file may be a keychain profile's whose registry entry was lost,
    // so its entry is read too when a keychain is at hand (one out of reach is not written
    // either, so a file written beside it loses nothing).
    const mayHoldKeychain =
      !entry.legacy && file === undefined && this.#keyring !== undefined && (await exists(dir));
    if (toKeychain || mayHoldKeychain) {
      const keys = this.#keysOfFolder(dir);
      const key = keys.key;
      const text = await this.#readKeychain(keys).catch((error: unknown) => {
        if (toKeychain) throw error;
        return null;
      });
      if (text !== null) {
        inKeychain = {
          key,
          auth: parseAuthText(`the keychain entry ${key}`, text),
        };
      }
    }
    for (const held of saved) {
      if (!held.tokens) continue;
      const holder = identityFromAuth(held);
      if (!sameAccount(holder, identity)) throw anotherAccountError(entry.name, holder, identity);
    }
    if (inKeychain?.auth.tokens) {
      const holder = identityFromAuth(inKeychain.auth);
      if (!sameAccount(holder, identity)) {
        throw keychainHolderError(entry.name, dir, inKeychain.key, holder, identity);
      }
    }
    const journal =
      options.journal === undefined ? null : await this.#writeJournal(options.journal);
    await this.#writeAuthOf(entry, auth, { keepFile: options.keepFile === true });
    return { journal, setAside };
  }

  /**
   * True when the folder of profile `name` has no auth file and its keychain entry holds the
   * sign-in of the account `identity` names; false when anything is not so, or cannot be read.
   */
  async #keychainKeeps(name: string, identity: AuthIdentity): Promise<boolean> {
    const dir = this.#paths.profileDir(name);
    if (this.#keyring === undefined || !(await exists(dir))) return false;
    if (await exists(this.#paths.profileAuth(name))) return false;
    try {
      const text = await this.#readKeychain(this.#keysOfFolder(dir));
      if (text === null) return false;
      const held = parseAuthText('the keychain entry', text);
      return !!held.tokens && sameAccount(identityFromAuth(held), identity);
    } catch {
      return false;
    }
  }

  /**
   * Keeps the auth file at `path` that cannot be read under a new name beside it
   * (`auth.json.unreadable-<time>`, 0600), and returns that name. A hard link first, so the
   * profile is never without a file while the fresh tokens are written over `path`; a rename
   * where links are refused. The file is never deleted.
   */
  async #setAsideUnreadable(profile: string, path: string): Promise<string> {
    const stamp = new Date(this.#now()).toISOString().replace(/[:.]/g, '-');
    let aside = `${path}.unreadable-${stamp}`;
    for (let attempt = 1; await exists(aside); attempt++) {
      aside = `${path}.unreadable-${stamp}-${attempt}`;
    }
    try {
      await link(path, aside);
    } catch {
      await renamePath(path, aside);
    }
    await chmod(aside, 0o600);
    this.#logger.warn({ profile, path: aside }, 'set aside an unreadable auth file');
    return aside;
  }

  /**
   * The first folder saving a sign-in writes in (`signInFolders`: the home's, and each listed
   * profile's) that cannot be written, or null. The one list both the check before a sign-in
   * (`precheckSignIn`) and the save (`saveSignIn`) probe. A registry that cannot be read lists no
   * profile folder (reading it reports it).
   */
  async unwritableSignInFolder(): Promise<UnwritableFolder | null> {
    const profiles = await this.readRegistry().then(
      (registry) =>
        registry.profiles.filter((record) => record.legacy !== true).map((record) => record.name),
      () => [],
    );
    return findUnwritableFolder(signInFolders(this.#paths, profiles), this.#probeFs);
  }

  /**
   * Before any sign-in, the one check every surface makes (`login`, the dashboard's Add account
   * and Sign in again). First, for a new profile (`newProfile`: Add account), refuses a `name` a
   * profile has (`name_taken`, saying whose it is): that needs no keychain, so a keychain out of
   * reach never hides it. Then refuses (`keyring_unavailable`) when the sign-in keeps its tokens in the
   * OS keychain (`keyring`: `login --keyring`; or `name` is a profile kept there, whose sign-in
   * again is saved there too) and the keychain does not answer, so no browser sign-in is finished
   * only to be refused. Refuses (`io_error`, naming the folder) when a folder its save writes in
   * cannot be written (`unwritableSignInFolder`), so no browser sign-in is made only to be lost.
   * Then, before a sign-in to the profile `name`: refuses when its auth file cannot be read and the
   * registry records no account for it. A sign-in may set such a file aside only for the account
   * the registry names (see `#writeSignIn`); with none named it would be refused after the browser
   * step, so it is refused before, naming the file. Nothing happens for a new name.
   */
  async precheckSignIn(
    name: string | null,
    options: { keyring?: boolean; newProfile?: boolean } = {},
  ): Promise<void> {
    if (options.newProfile === true && name !== null) {
      const target = signInNameTarget(name, await this.listProfiles());
      if (target.kind === 'existing') throw signInNameTaken(target.profile.name, target.owner);
    }
    await this.#requireKeychainForSignIn(name, options.keyring === true);
    const unwritable = await this.unwritableSignInFolder();
    if (unwritable !== null) {
      throw unwritableError(
        unwritable,
        'so a sign-in could not be saved and no sign-in was started',
      );
    }
    if (name === null) return;
    const entries = await this.listProfiles();
    const real = matchProfileName(
      name,
      entries.map((entry) => entry.name),
    );
    const entry = entries.find((candidate) => candidate.name === real);
    if (!entry || entry.accountId !== null || entry.email !== null) return;
    try {
      await this.#readAuthOf(entry);
    } catch (error) {
      if (!isLabError(error) || !unreadableTokens(error)) return;
      throw new LabError(
        error.code,
        // One sentence: what is wrong with the file (the reader's first sentence), and what to do.
        `${error.message.split('. ')[0]!.replace(/\.$/, '')}, and Codex Lab does not know which account ${entry.name} belongs to, so no sign-in was started: fix that file or move it away, then sign in again.`,
        { details: { ...error.details } },
      );
    }
  }

  /** The keychain part of `precheckSignIn`: refuses when the sign-in needs a keychain that is out of reach. */
  async #requireKeychainForSignIn(name: string | null, keyring: boolean): Promise<void> {
    const existing = name === null ? null : signInNameTarget(name, await this.listProfiles());
    const keychainProfile =
      existing?.kind === 'existing' &&
      existing.profile.store === 'keyring' &&
      !existing.profile.legacy;
    if (!keyring && !keychainProfile) return;
    const probe = await this.#probeKeyring();
    if (probe.available) return;
    const reason = keyringFailureReason(probe.reason);
    throw new LabError(
      'keyring_unavailable',
      keychainProfile
        ? `${existing.profile.name} keeps its tokens in the OS keychain, which is not available (${reason}), so no sign-in was started: ${keychainCure(reason)}, then sign in again.`
        : `The OS keychain is not available (${reason}), so --keyring cannot keep the tokens: unlock it, or sign in without --keyring.`,
    );
  }

  #requireKeyring(): KeyringPort {
    if (!this.#keyring) {
      throw new LabError(
        'keyring_unavailable',
        'This profile keeps its tokens in the OS keychain, but no keychain was configured for this process.',
      );
    }
    return this.#keyring;
  }
}

/**
 * The sentence for a folder a sign-in cannot be saved in: with `outcome` (what came of it), the
 * whole sentence with its cure; without, the bare fact (the save's, worded by `#keepSignIn`).
 */
function unwritableError(unwritable: UnwritableFolder, outcome: string | null): LabError {
  const fact = `Codex Lab cannot write in ${unwritable.folder} (${unwritable.reason})`;
  return new LabError(
    'io_error',
    outcome === null
      ? `${fact}.`
      : `${fact}, ${outcome}: make it a folder you can write in (or set CODEX_LAB_HOME to one), then sign in again.`,
    // Raised only before anything is written: the caller may revoke the tokens, none is on disk.
    { details: { path: unwritable.folder, nothingWritten: true } },
  );
}

/**
 * A keychain profile's operation refused because the keychain is out of reach, before anything
 * changed: `outcome` says what did not happen ("was not renamed"), then why, then what to do.
 */
function keychainRefusal(name: string, outcome: string, error: unknown): LabError {
  if (!isLabError(error) || error.code !== 'keyring_unavailable') return error as LabError;
  return new LabError(
    'keyring_unavailable',
    `${name} ${outcome}: it keeps its tokens in the OS keychain, which is not available (${keyringFailureDetail(error)}); ${keychainCure(keyringFailureDetail(error))}, then try again.`,
    { details: { detail: keyringFailureDetail(error) }, cause: error },
  );
}

/** What `saveSignIn` saved: the profile, whether it is new, and where an unreadable file was kept. */
export interface SavedSignIn {
  name: string;
  created: boolean;
  /** The new name of the auth file that could not be read and was set aside, when one was. */
  setAside?: string;
}

/** What `#replaySignIn`'s save answers when the profile holds newer tokens than the kept sign-in. */
const superseded = Symbol('superseded');

/**
 * True when a kept sign-in `kept` may replace the tokens `held`: the profile holds none, or holds
 * other tokens than `kept`'s, signed in before it. The profile's `signedInAt` (the registry's:
 * when its tokens were signed in, which a refresh leaves alone) says when; a refresh that landed
 * after the sign-in was kept (it held the lock the sign-in waited for) does not make the older
 * sign-in newer. Never true twice for one sign-in: once saved, `signedInAt` is its own time.
 * Without `signedInAt` (a profile signed in before it was recorded) the tokens' own time
 * (`last_refresh`, which a refresh sets too) stands in; tokens without either are older than any
 * sign-in, and a sign-in without a time is newer than nothing.
 */
function keptSignInIsNewer(
  kept: AuthDotJson,
  held: AuthDotJson,
  signedInAt: string | undefined,
): boolean {
  if (!held.tokens) return true;
  if (held.tokens.refresh_token === kept.tokens?.refresh_token) return false;
  const heldAt = Date.parse(signedInAt ?? held.last_refresh ?? '');
  if (Number.isNaN(heldAt)) return true;
  return Date.parse(kept.last_refresh ?? '') > heldAt;
}

function withSetAside(saved: SavedSignIn, setAside: string | null): SavedSignIn {
  return setAside === null ? saved : { ...saved, setAside };
}

/** True when `name` passes `validateProfileName` (shape, reserved, Windows), taken or not. */
function usableName(name: string): boolean {
  try {
    validateProfileName(name, []);
    return true;
  } catch {
    return false;
  }
}

function findEntry(entries: ProfileEntry[], name: string): ProfileEntry {
  // The one rule for a typed name (names.ts), so every command reads `ALPHA-2` as `alpha-2`.
  const real = matchProfileName(
    name,
    entries.map((entry) => entry.name),
  );
  const found = real === null ? undefined : entries.find((entry) => entry.name === real);
  if (!found) {
    throw unknownProfile(
      name,
      entries.map((entry) => entry.name),
    );
  }
  return found;
}

/**
 * Whether two records name the same account: both the account id and the email must match, since
 * one email can own a personal and a team workspace (research 1.4). What `saveSignIn`, a
 * recovered journal record, an unlisted folder and a replayed rename or removal are each matched
 * to a profile by.
 */
function sameAccount(
  left: { accountId?: string | null; email?: string | null },
  right: { accountId?: string | null; email?: string | null },
): boolean {
  return (
    (left.accountId ?? null) === (right.accountId ?? null) &&
    (left.email?.toLowerCase() ?? null) === (right.email?.toLowerCase() ?? null)
  );
}

/**
 * The refusal of a sign-in under a name whose profile is another account's, one sentence for
 * wherever that is found (the registry, or the tokens saved in the profile's folder): most often
 * "sign in again" done as the wrong account, or as the same person in another workspace. It says
 * which each is, so the user knows which way to go.
 */
function anotherAccountError(
  name: string,
  holder: { email: string | null; plan: string | null; accountId: string | null },
  identity: AuthIdentity,
): LabError {
  const quoted = JSON.stringify(name);
  const signIn = identity.email ?? `account ${identity.accountId ?? 'unknown'}`;
  let message: string;
  if (holder.email === null) {
    message = `The profile ${quoted} holds the sign-in of another account (account ${holder.accountId ?? 'unknown'}) than this one (${signIn}): to add ${signIn}, give it another name.`;
  } else if (identity.email !== null && holder.email.toLowerCase() === identity.email) {
    message = `The profile ${quoted} is ${holder.email} in another workspace (${holder.plan ?? 'unknown plan'}, account ${holder.accountId ?? 'unknown'}) than this sign-in (${identity.plan ?? 'unknown plan'}, account ${identity.accountId ?? 'unknown'}): to sign in to ${quoted} again, choose its workspace; to add this one, give it another name.`;
  } else {
    message = `The profile ${quoted} is ${holder.email}, but this sign-in is ${signIn}: to sign in to ${quoted} again, sign in as ${holder.email}; to add ${signIn}, give it another name.`;
  }
  return new LabError('name_taken', message);
}

/**
 * The refusal of a sign-in under a name whose folder's keychain entry keeps another account's
 * sign-in. The entry may outlive the profile (an earlier home at the same path, a registry entry
 * lost), so the sentence names the keychain entry, not a profile that may not be listed.
 */
function keychainHolderError(
  name: string,
  dir: string,
  key: string,
  holder: AuthIdentity,
  identity: AuthIdentity,
): LabError {
  const quoted = JSON.stringify(name);
  const signIn = identity.email ?? `account ${identity.accountId ?? 'unknown'}`;
  const held =
    holder.email === null
      ? `another account (account ${holder.accountId ?? 'unknown'})`
      : identity.email !== null && holder.email.toLowerCase() === identity.email
        ? `${holder.email} in another workspace (account ${holder.accountId ?? 'unknown'})`
        : holder.email;
  return new LabError(
    'name_taken',
    `The OS keychain already keeps the sign-in of ${held} for ${dir}, where a profile named ${quoted} keeps its tokens (entry ${JSON.stringify(key)} of ${JSON.stringify(keyringService)}), but this sign-in is ${signIn}: to add ${signIn}, give it another name; to use ${quoted}, sign in as ${held === holder.email ? held : 'that account'}.`,
  );
}

/**
 * A new profile's registry record: the account `identity` names (nothing known when null), no
 * label, not used yet, priming off. Every record the store makes (a sign-in, a folder adopted
 * into a lost registry, the legacy auth.json) starts here.
 */
function newProfileRecord(
  name: string,
  identity: AuthIdentity | null,
  createdAt: string,
  store: ProfileRecord['store'],
): ProfileRecord {
  return {
    name,
    label: null,
    email: identity?.email ?? null,
    plan: identity?.plan ?? null,
    accountId: identity?.accountId ?? null,
    userId: identity?.userId ?? null,
    createdAt,
    lastUsedAt: null,
    store,
    priming: { enabled: false, windows: ['weekly'], at: null, model: null },
  };
}

/** The account the tokens in the auth file at `path` name; null when it holds none or is unreadable. */
async function identityInFile(path: string): Promise<AuthIdentity | null> {
  try {
    const auth = await readAuthFile(path);
    return auth?.tokens ? identityFromAuth(auth) : null;
  } catch {
    return null;
  }
}

/** The registry's `signedInAt` for a sign-in's tokens: their own time, stamped at sign-in. */
function signedInFields(auth: AuthDotJson): { signedInAt?: string } {
  return auth.last_refresh === undefined ? {} : { signedInAt: auth.last_refresh };
}

function identityFields(identity: AuthIdentity) {
  return {
    email: identity.email,
    plan: identity.plan,
    accountId: identity.accountId,
    userId: identity.userId,
  };
}

/** Puts `record` in place of `from` (or adds it for an unlisted legacy profile); moves pins. */
function applyRename(registry: Registry, from: string, record: ProfileRecord): void {
  const index = registry.profiles.findIndex((p) => p.name === from);
  if (index >= 0) registry.profiles[index] = record;
  else registry.profiles.push(record);
  retarget(registry, from, record.name);
}

/** `rename(2)`, reported as `io_error` naming both paths. */
async function movePath(source: string, target: string): Promise<void> {
  try {
    await renamePath(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw error;
    throw new LabError(
      'io_error',
      `Could not move ${source} to ${target} (${(error as Error).message}); check that folder's permissions, then rename again.`,
    );
  }
}

/** Moves (or with `to === null` drops) everything in the registry that names `from`. */
/** What in a registry names one profile, besides its entry. */
export interface ProfileReferences {
  /** It is the active profile (new unpinned sessions use it). */
  active: boolean;
  /** The session ids pinned to it. */
  sessions: string[];
  /** The repository paths pinned to it. */
  repos: string[];
}

/**
 * What in `registry` names `name`: what a rename moves and a removal drops (so a command can say
 * what else changed).
 */
export function referencesTo(registry: Registry, name: string): ProfileReferences {
  const keysOf = (pins: Record<string, Pin>) =>
    Object.entries(pins)
      .filter(([, pin]) => pin.profile === name)
      .map(([key]) => key);
  return {
    active: registry.active === name,
    sessions: keysOf(registry.pins.sessions),
    repos: keysOf(registry.pins.repos),
  };
}

function retarget(registry: Registry, from: string, to: string | null): void {
  const references = referencesTo(registry, from);
  if (references.active) registry.active = to ?? 'auto';
  for (const [pins, keys] of [
    [registry.pins.sessions, references.sessions],
    [registry.pins.repos, references.repos],
  ] as const) {
    for (const key of keys) {
      if (to === null) delete pins[key];
      else pins[key]!.profile = to;
    }
  }
}

function notSignedIn(name: string, where: string): LabError {
  return signInAgainError(
    'not_signed_in',
    name,
    `Profile ${JSON.stringify(name)} has no tokens (${where} is missing).`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file in a keychain profile's folder that holds a refresh's rotated tokens while they are
 * written to the keychain (`ProfileStore.keepRotation`).
 */
const keychainWriteFile = 'keychain-write.json';

/** A `keychain-write.json`'s tokens and the digest of the refresh token they replace. */
function parseKeychainWrite(
  path: string,
  text: string,
): { replaces: string; auth: AuthDotJson } | undefined {
  try {
    const value = JSON.parse(text) as { replaces?: unknown; auth?: unknown };
    if (typeof value.replaces !== 'string') return undefined;
    return { replaces: value.replaces, auth: parseAuthText(path, JSON.stringify(value.auth)) };
  } catch {
    return undefined;
  }
}

/** An auth file's content and write time, or undefined when it is missing or not a whole auth file. */
async function readTimedAuth(
  path: string,
): Promise<{ auth: AuthDotJson; time: number } | undefined> {
  try {
    const auth = await readAuthFile(path);
    if (auth === undefined) return undefined;
    return { auth, time: (await stat(path)).mtimeMs };
  } catch {
    return undefined;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
