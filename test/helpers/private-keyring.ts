/**
 * A gnome-keyring of a test's own, on a private D-Bus session, so a test may stop, lock or kill
 * it without touching another test's keychain. Linux only; `privateKeyringAvailable` says whether
 * this machine can run one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const which = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Whether `dbus-run-session` and `gnome-keyring-daemon` are here. */
export const privateKeyringAvailable =
  process.platform === 'linux' && which('dbus-run-session') && which('gnome-keyring-daemon');

/** A running private keychain. */
export interface PrivateKeyring {
  /** Its D-Bus session address (`DBUS_SESSION_BUS_ADDRESS`). */
  address: string;
  /** The environment a process uses it with. */
  env: NodeJS.ProcessEnv;
  /**
   * Sends `signal` to every gnome-keyring-daemon on the bus now (it forks while it starts, and
   * D-Bus may start another), e.g. SIGSTOP: a keychain that no longer answers.
   */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Ends the daemons and the bus. */
  stop(): Promise<void>;
}

/** Starts an unlocked gnome-keyring on a private bus, its files under `folder`. */
export async function startPrivateKeyring(folder: string): Promise<PrivateKeyring> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_DATA_HOME: join(folder, 'data'),
    XDG_RUNTIME_DIR: folder,
  };
  delete env['DBUS_SESSION_BUS_ADDRESS'];
  const session = spawn(
    'dbus-run-session',
    [
      '--',
      'sh',
      '-c',
      'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; echo "$DBUS_SESSION_BUS_ADDRESS"; exec sleep 600',
    ],
    { env, stdio: ['ignore', 'pipe', 'ignore'], detached: true },
  );
  const address = await new Promise<string>((resolve) =>
    createInterface({ input: session.stdout! }).once('line', resolve),
  );
  if ((await daemonsOf(address)).length === 0) throw new Error('no gnome-keyring-daemon started');
  const signal = async (name: NodeJS.Signals) => {
    for (const pid of await daemonsOf(address)) {
      try {
        process.kill(pid, name);
      } catch {
        // Ended meanwhile.
      }
    }
  };
  return {
    address,
    env: { ...env, DBUS_SESSION_BUS_ADDRESS: address },
    signal,
    stop: async () => {
      await signal('SIGKILL');
      try {
        process.kill(-session.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

/** The live gnome-keyring-daemons on the bus at `address` (they detach, so they are looked up). */
async function daemonsOf(address: string): Promise<number[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const command = await readFile(`/proc/${entry}/cmdline`, 'utf8');
        if (!command.includes('gnome-keyring-daemon')) continue;
        if ((await readFile(`/proc/${entry}/stat`, 'utf8')).split(' ')[2] === 'Z') continue;
        const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
        if (environ.split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${address}`)) {
          found.push(Number(entry));
        }
      } catch {
        // A process that ended meanwhile.
      }
    }
    if (found.length > 0) return found;
    // The daemon is starting (a real process): looked for again shortly.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}
