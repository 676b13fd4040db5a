/**
 * The OS keychain as Codex uses it (docs/codex-protocol.md section 4): service `Codex Auth`,
 * account `cli|` + the first 16 hex characters of sha256(canonical CODEX_HOME, as Rust's
 * canonicalize gives it: verbatim `\\?\…` on Windows), value the compact auth.json. Using the
 * same key means stock Codex pointed at a profile folder finds its tokens.
 *
 * `@napi-rs/keyring` is a native module: it is loaded only by the keychain broker, a child
 * process started when a keyring is actually used, so commands such as `codex-lab list` never pay
 * for it, and a native call that hangs or aborts never reaches this process.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

/** Resolves a path to its canonical form (links followed), throwing when it cannot. */
export type RealpathSync = (path: string) => string;

/**
 * The string Codex hashes for the CODEX_HOME folder `profileDir` on `platform`: what Rust's
 * `fs::canonicalize` returns for it, or the path as given when that fails (Codex's fallback, e.g.
 * for a folder that does not exist yet). On macOS and Linux that is realpath(3), which Node's
 * native realpath matches exactly. On Windows Rust returns the extended-length ("verbatim") form,
 * `\\?\C:\…` for a drive path and `\\?\UNC\server\share\…` for a UNC path, where Node's gives
 * `C:\…` and `\\server\share\…`. `realpath` replaces Node's (a test's stand-in).
 */
export function codexKeyPath(
  profileDir: string,
  platform: NodeJS.Platform = process.platform,
  realpath: RealpathSync = realpathSync.native,
): string {
  let canonical: string;
  try {
    canonical = realpath(profileDir);
  } catch {
    return profileDir;
  }
  return platform === 'win32' ? verbatimPath(canonical) : canonical;
}

/**
 * `canonical`, a Windows path as Node's realpath gives it, in the form Rust's canonicalize gives
 * it: both read the same final path from Windows (`GetFinalPathNameByHandleW`), which Rust keeps
 * whole and libuv shortens by dropping `\\?\` (and `\\?\UNC\` down to `\\`).
 */
function verbatimPath(canonical: string): string {
  const verbatim = '\\\\?\\';
  if (canonical.startsWith(verbatim)) return canonical;
  if (canonical.startsWith('\\\\')) return `${verbatim}UNC\\${canonical.slice(2)}`;
  // A drive path; also a volume without a drive letter, which libuv gives as `Volume{…}\…`.
  return `${verbatim}${canonical}`;
}

/** `cli|` + the first 16 lowercase hex characters of the SHA-256 of `path` (its UTF-8 bytes). */
function storeKey(path: string): string {
  return `cli|${createHash('sha256').update(path).digest('hex').slice(0, 16)}`;
}

/**
 * Codex's keyring account for a CODEX_HOME folder on `platform`: `cli|` + 16 hex of sha256 of
 * the path Codex hashes for it (`codexKeyPath`).
 */
export function keyringAccountFor(
  profileDir: string,
  platform: NodeJS.Platform = process.platform,
  realpath: RealpathSync = realpathSync.native,
): string {
  return storeKey(codexKeyPath(profileDir, platform, realpath));
}

/**
 * The account Codex Lab kept a folder's entry under before it used Codex's own key on Windows
 * (the hash of Node's realpath form, without the verbatim prefix), where keychain profiles made
 * then still sit; null where that is the same key (macOS, Linux, a path that cannot be
 * canonicalized), so there is nothing to move.
 */
export function formerKeyringAccountFor(
  profileDir: string,
  platform: NodeJS.Platform = process.platform,
  realpath: RealpathSync = realpathSync.native,
): string | null {
  if (platform !== 'win32') return null;
  let canonical: string;
  try {
    canonical = realpath(profileDir);
  } catch {
    return null;
  }
  const former = storeKey(canonical);
  return former === keyringAccountFor(profileDir, platform, realpath) ? null : former;
}

/** One keychain call, as the broker (core/profiles/keyring-broker.cjs) receives it. */
export interface KeyringBrokerRequest {
  id: number;
  op: 'get' | 'set' | 'delete';
  /** The keychain service the entry is under (`keyringService`, Codex's own). */
  service: string;
  account: string;
  value?: string;
  /** The broker's own deadline for the native call (its AbortSignal). */
  timeoutMs: number;
}

/** The broker's answer to one request; `message` is the backend's failure, never a secret. */
export type KeyringBrokerAnswer =
  { id: number; ok: true; value: string | null } | { id: number; ok: false; message: string };

/** A running broker, whatever started it (a Node child process, Electron's utility process). */
export interface KeyringBrokerChannel {
  send(request: KeyringBrokerRequest): void;
  onMessage(listener: (answer: KeyringBrokerAnswer) => void): void;
  /** Called once when the broker is gone (exited, killed, aborted, or never started). */
  onExit(listener: (reason: string) => void): void;
  /** Ends the broker at once (SIGKILL): a hung native call must not be waited for. */
  kill(): void;
}

/** Starts a broker; called on the first keychain call and again after a broker is gone. */
export type KeyringBrokerLauncher = () => KeyringBrokerChannel;

/** The broker script, beside this module (the build scripts copy it beside each bundle). */
export function keyringBrokerScript(): string {
  return fileURLToPath(new URL('./keyring-broker.cjs', import.meta.url));
}

/**
 * Starts the broker as a Node child process over an IPC channel. `keyringModule` replaces
 * `@napi-rs/keyring` (a test's stand-in that hangs or aborts on cue).
 */
export function nodeKeyringBroker(
  options: { keyringModule?: string; script?: string } = {},
): KeyringBrokerLauncher {
  return () => {
    const child = spawn(
      process.execPath,
      [
        options.script ?? keyringBrokerScript(),
        ...(options.keyringModule ? [options.keyringModule] : []),
      ],
      // No stdout/stderr: a Rust panic's text would land in the CLI's output.
      {
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        windowsHide: true,
        // Under Electron (a test or a development run), its binary runs the script as Node.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      },
    );
    // An idle broker must not keep a finished command alive; a pending call's timer does.
    child.unref();
    child.channel?.unref();
    // The broker ends itself when the channel closes; this makes it immediate on a normal exit.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let exitListener: ((reason: string) => void) | undefined;
    let gone = false;
    const exited = (reason: string) => {
      if (gone) return;
      gone = true;
      process.removeListener('exit', killOnExit);
      exitListener?.(reason);
    };
    // An 'error' (a failed spawn, send or kill) may leave a live child that is no longer used:
    // kill it, or it would hold a keychain call (and its memory) until this process exits.
    child.on('error', (error) => {
      child.kill('SIGKILL');
      exited(error.message);
    });
    child.on('exit', (code, signal) =>
      exited(
        signal
          ? `the keychain helper was ended by ${signal}`
          : `the keychain helper exited (${code})`,
      ),
    );
    return {
      send: (request) => {
        if (child.connected) child.send(request);
      },
      onMessage: (listener) =>
        child.on('message', (answer) => listener(answer as KeyringBrokerAnswer)),
      onExit: (listener) => {
        exitListener = listener;
      },
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}

/**
 * How long one keychain call may take before it is given up (a locked keychain may wait for an
 * unlock prompt no one answers); a listing waits this long for all its keychain reads together.
 */
export const keyringCallTimeoutMs = 10_000;

/** Options for the real keychain. */
export interface SystemKeyringOptions {
  /** Give up on one keychain call after this long (a locked keychain may wait for a prompt). */
  timeoutMs?: number;
  /**
   * A broker of its own, started this way (a test's stand-in module); default the process's
   * one broker (`useKeyringBroker`).
   */
  launch?: KeyringBrokerLauncher;
}

/**
 * How long past its own deadline the broker may take to answer before it is presumed stuck: the
 * native AbortSignal is not honoured while an unlock prompt is pending.
 */
const brokerGraceMs = 1000;

/** One keychain call: `op` on `account` (with `value` for a set), answered within `timeoutMs`. */
type BrokerCall = (
  op: KeyringBrokerRequest['op'],
  account: string,
  value: string | undefined,
  timeoutMs: number,
) => Promise<string | null>;

/**
 * Talks to one broker at a time, started on the first call. A call fails `keyring_unavailable`
 * when the keychain refused it or it passed its own deadline; a broker is killed when a call
 * passes its deadline or a write fails (so a native write still running cannot land after a
 * newer one). The calls a broker held when it was killed for another call, or died (a crash, a
 * kill from outside), did nothing wrong: they are sent once more, in their order, to a new
 * broker, and fail if that one goes too, so a keychain that keeps failing never loops.
 */
function brokerClient(launch: KeyringBrokerLauncher): BrokerCall {
  type Call = {
    request: KeyringBrokerRequest;
    resolve: (value: string | null) => void;
    reject: (error: LabError) => void;
    /** The call's own deadline, from its first send: a resend does not extend it. */
    timer?: NodeJS.Timeout;
    /** The broker it was last sent to. */
    broker?: Broker;
    /** Whether it was already sent again after a broker went away under it. */
    resent: boolean;
  };
  type Broker = { channel: KeyringBrokerChannel; pending: Map<number, Call> };
  let current: Broker | undefined;
  let nextId = 1;

  const fail = (call: Call, error: LabError) => {
    clearTimeout(call.timer);
    call.reject(error);
  };

  /** Sends `call` to the current broker, started if there is none. */
  const dispatch = (call: Call) => {
    if (!current) {
      try {
        current = start();
      } catch (error) {
        // A host that cannot start it (a utility process refused, a spawn that throws) is a
        // keychain out of reach, which callers handle by its code, not a bug.
        fail(call, unavailable(`the keychain helper could not start: ${(error as Error).message}`));
        return;
      }
    }
    call.broker = current;
    current.pending.set(call.request.id, call);
    // A broker already gone drops it (the send is a no-op); its exit then sends it on.
    current.channel.send(call.request);
  };

  /**
   * The calls `broker` held when it went away go to a new broker, in the order they were made
   * (so an older write of an account never lands after a newer one); one sent again already
   * fails with `reason`.
   */
  const sendOn = (broker: Broker, reason: string) => {
    const calls = [...broker.pending.values()];
    broker.pending.clear();
    for (const call of calls) {
      if (call.resent) {
        fail(call, unavailable(reason));
        continue;
      }
      call.resent = true;
      dispatch(call);
    }
  };

  /** Kills `broker` for a call that failed with `reason`; the others it held go on. */
  const retire = (broker: Broker, reason: string) => {
    if (current === broker) current = undefined;
    // The kill comes first, at once: a native write left running on one of its threads must be
    // gone before any call (the same account's next write) reaches the next broker.
    broker.channel.kill();
    sendOn(broker, reason);
  };

  const start = (): Broker => {
    const pending = new Map<number, Call>();
    const channel = launch();
    const broker: Broker = { channel, pending };
    channel.onMessage((answer) => {
      const call = pending.get(answer.id);
      if (!call) return;
      pending.delete(answer.id);
      clearTimeout(call.timer);
      if (answer.ok) {
        call.resolve(answer.value);
        return;
      }
      call.reject(unavailable(answer.message));
      // A native write whose AbortSignal fired (or that failed) may still be running on its
      // thread: left alive, it could land after a newer token is written. Only a kill stops it.
      if (call.request.op !== 'get') retire(broker, answer.message);
    });
    channel.onExit((reason) => {
      if (current === broker) current = undefined;
      // Which call (if any) made it die is unknown: each gets its one resend.
      sendOn(broker, reason);
    });
    return broker;
  };

  return (op, account, value, timeoutMs) =>
    new Promise<string | null>((resolve, reject) => {
      const request: KeyringBrokerRequest = {
        id: nextId++,
        op,
        service: keyringService,
        account,
        ...(value === undefined ? {} : { value }),
        timeoutMs,
      };
      const call: Call = { request, resolve, reject, resent: false };
      call.timer = setTimeout(() => {
        const detail = `no answer within ${seconds(timeoutMs)}`;
        reject(unavailable(detail));
        const broker = call.broker;
        if (!broker) return;
        broker.pending.delete(request.id);
        // Its pool thread is stuck: a new broker serves the next call.
        retire(broker, detail);
      }, timeoutMs + brokerGraceMs);
      dispatch(call);
    });
}

let processLaunch: KeyringBrokerLauncher | undefined;
let processBroker: BrokerCall | undefined;

/**
 * How this process starts its one keychain broker, for a host that cannot use the default Node
 * child process (the desktop app: an Electron utility process). Call before the first keychain
 * call.
 */
export function useKeyringBroker(launch: KeyringBrokerLauncher): void {
  processLaunch = launch;
  processBroker = undefined;
}

/**
 * The real OS keychain. On Linux it is pinned to the Secret Service (as Codex's persistent store
 * is), so tokens never silently land in the kernel keyring, which does not survive a reboot.
 *
 * Every call is made by the keychain broker (keyring-broker.cjs), a child process this process
 * starts on its first keychain call and shares among all its keychains, so a native call that
 * never returns, or a panic that aborts, costs that call and never this process.
 */
export function createSystemKeyring(options: SystemKeyringOptions = {}): KeyringPort {
  const timeoutMs = options.timeoutMs ?? keyringCallTimeoutMs;
  const own = options.launch ? brokerClient(options.launch) : undefined;
  const call = (op: KeyringBrokerRequest['op'], account: string, value?: string) =>
    (own ?? (processBroker ??= brokerClient(processLaunch ?? nodeKeyringBroker())))(
      op,
      account,
      value,
      timeoutMs,
    );
  return {
    get: async (account) => call('get', account),
    set: async (account, value) => {
      await call('set', account, value);
    },
    delete: async (account) => {
      await call('delete', account);
    },
  };
}

/** Whether a keychain answered a probe, and if not, what it said. */
export type KeyringProbe = { available: true } | { available: false; reason: string };

/**
 * Whether a keychain is reachable, and if not, why (before a sign-in that keeps its tokens there,
 * and for skipping tests). By default the system keychain on a broker of its own, ended
 * afterwards: a probe that fails (3 s deadline, a refused write) ends its broker, which must not
 * cost the process's other keychain calls theirs. A `keyring` passed (a test's stand-in) is
 * probed as it is; the missing D-Bus session is the system keychain's own check.
 */
export async function probeKeyring(keyring?: KeyringPort): Promise<KeyringProbe> {
  if (
    keyring === undefined &&
    process.platform === 'linux' &&
    !process.env['DBUS_SESSION_BUS_ADDRESS']
  ) {
    return { available: false, reason: noSessionBus };
  }
  let own: KeyringBrokerChannel | undefined;
  const probed =
    keyring ??
    createSystemKeyring({
      timeoutMs: 3000,
      launch: () => (own = (processLaunch ?? nodeKeyringBroker())()),
    });
  try {
    // A write, not a read: a locked keychain answers reads but refuses (or prompts for) writes.
    await probed.set('codex-lab-probe', 'probe');
    await probed.delete('codex-lab-probe');
    return { available: true };
  } catch (error) {
    return { available: false, reason: keyringFailureDetail(error) };
  } finally {
    own?.kill();
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

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/** Why a keychain cannot be reached on Linux without a D-Bus session: one wording of it. */
const noSessionBus =
  'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service';

/**
 * The backend's failure as said to the user: its first line, and one wording for one cause. A
 * process without a D-Bus session bus fails in the probe's check (`noSessionBus`) or, in the
 * broker, as D-Bus trying to start one through X11 ("…dbus-daemon autolaunch…"): both read as
 * the probe's sentence.
 */
export function keyringFailureReason(detail: string): string {
  const line = detail.split('\n')[0] ?? detail;
  return /autolaunch|DBUS_SESSION_BUS_ADDRESS/i.test(line) ? noSessionBus : line;
}

/**
 * What to do about a keychain out of reach, given what it said (`detail`), the same on every
 * surface: with no D-Bus session bus there is no keychain to unlock, so the cure is the session
 * that has one; otherwise it is locked, or its daemon is gone, and unlocking it is the cure.
 * Tokens kept in the keychain are read only from it: no other store is offered.
 */
export function keychainCure(detail: string): string {
  return keyringFailureReason(detail) === noSessionBus
    ? 'run Codex Lab in the desktop session whose keychain keeps it'
    : 'unlock the keychain';
}

/**
 * A keychain profile whose sign-in cannot be read because the keychain is locked or out of reach,
 * in one sentence naming the profile and what to do; `retry` says when it is tried again (the
 * router's own re-check). Every surface says it in these words: the router, `list`, `usage`.
 * `error` is the keychain's own failure; its detail is kept (`keyringFailureDetail`).
 */
export function keychainProfileUnreadable(profile: string, error: unknown, retry = ''): LabError {
  const detail = keyringFailureDetail(error);
  return new LabError(
    'keyring_unavailable',
    `The OS keychain is locked or unavailable (${detail}), so ${profile}'s sign-in cannot be read: ${keychainCure(detail)}${retry}.`,
    { details: { detail }, cause: error },
  );
}

/** A keychain call that failed saying `detail`, in the sentence every keychain failure has. */
export function keyringUnavailable(detail: string): LabError {
  return unavailable(detail);
}

function unavailable(detail: string): LabError {
  // The native error text names the backend failure only; it never contains the stored value.
  const line = keyringFailureReason(detail);
  return new LabError(
    'keyring_unavailable',
    `The OS keychain is not available (${line}): ${keychainCure(line)}.`,
    {
      details: { detail: line },
    },
  );
}
