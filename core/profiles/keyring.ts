/**
 * The OS keychain as Codex uses it (docs/codex-protocol.md section 4): service `Codex Auth`,
 * account `cli|` + the first 16 hex characters of sha256(canonical CODEX_HOME), value the compact
 * auth.json. Using the same key means stock Codex pointed at a profile folder finds its tokens.
 *
 * `@napi-rs/keyring` is a native module: it is loaded only when a keyring is actually used, so
 * commands such as `codex-lab list` never pay for it.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { LabError } from '../errors.ts';

/** The keychain service Codex stores its credentials under. */
export const keyringService = 'Codex Auth';

/** A key-value view of the keychain under service `Codex Auth`. */
export interface KeyringPort {
  /** The stored value, or null when there is none. */
  get(account: string): Promise<string | null>;
  /** Stores `value`, replacing any previous one. */
  set(account: string, value: string): Promise<void>;
  /** Deletes the entry; deleting a missing entry is not an error. */
  delete(account: string): Promise<void>;
}

/**
 * Codex's keyring account for a CODEX_HOME folder: `cli|` + 16 hex of sha256 of the canonical
 * path (the raw path when it cannot be canonicalised, e.g. because it does not exist yet).
 */
export function keyringAccountFor(profileDir: string): string {
  let canonical = profileDir;
  try {
    // Rust's fs::canonicalize is realpath(3); the native variant matches it exactly.
    canonical = realpathSync.native(profileDir);
  } catch {
    // Codex falls back to the path as given.
  }
  return `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

type KeyringModule = typeof import('@napi-rs/keyring');

let loaded: Promise<KeyringModule> | undefined;
function loadKeyring(): Promise<KeyringModule> {
  loaded ??= import('@napi-rs/keyring');
  return loaded;
}

/** Options for the real keychain. */
export interface SystemKeyringOptions {
  /** Give up on one keychain call after this long (a locked keychain may wait for a prompt). */
  timeoutMs?: number;
}

/**
 * The real OS keychain. On Linux it is pinned to the Secret Service (as Codex's persistent store
 * is), so tokens never silently land in the kernel keyring, which does not survive a reboot.
 */
export function createSystemKeyring(options: SystemKeyringOptions = {}): KeyringPort {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const entry = async (account: string) => {
    const { AsyncEntry } = await loadKeyring().catch((error: unknown) => {
      throw unavailable(error);
    });
    return new AsyncEntry(keyringService, account, { linux: { store: 'secret-service' } });
  };
  const call = async <T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await operation(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      if (error instanceof LabError) throw error;
      throw unavailable(error);
    }
  };
  return {
    get: async (account) => call(async (signal) => (await entry(account)).getPassword(signal)),
    set: async (account, value) =>
      call(async (signal) => (await entry(account)).setPassword(value, signal)),
    delete: async (account) => {
      await call(async (signal) => (await entry(account)).deleteCredential(signal));
    },
  };
}

/** Whether a keychain is reachable, and if not, why (for `--keyring` and for skipping tests). */
export async function probeKeyring(
  keyring: KeyringPort = createSystemKeyring({ timeoutMs: 3000 }),
): Promise<{ available: true } | { available: false; reason: string }> {
  if (process.platform === 'linux' && !process.env['DBUS_SESSION_BUS_ADDRESS']) {
    return {
      available: false,
      reason: 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service',
    };
  }
  try {
    // A write, not a read: a locked keychain answers reads but refuses (or prompts for) writes.
    await keyring.set('codex-lab-probe', 'probe');
    await keyring.delete('codex-lab-probe');
    return { available: true };
  } catch (error) {
    return { available: false, reason: keyringFailureDetail(error) };
  }
}

/**
 * What the keychain backend said when it failed, not the sentence wrapped around it, for a
 * caller that words the failure itself (so it is said once).
 */
export function keyringFailureDetail(error: unknown): string {
  const detail = (error as { details?: { detail?: unknown } }).details?.detail;
  return typeof detail === 'string' ? detail : (error as Error).message;
}

function unavailable(error: unknown): LabError {
  // The native error text names the backend failure only; it never contains the stored value.
  const detail = error instanceof Error ? error.message : String(error);
  return new LabError(
    'keyring_unavailable',
    `The OS keychain is not available (${detail.split('\n')[0]}); unlock it, or use the file store.`,
    { cause: error, details: { detail: detail.split('\n')[0] } },
  );
}
