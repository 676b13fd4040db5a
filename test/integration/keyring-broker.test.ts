import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createSystemKeyring, nodeKeyringBroker } from '../../core/profiles/keyring.ts';
import { repositoryRoot } from '../helpers/auth-harness.ts';

const fakeModule = join(repositoryRoot, 'test/fakes/keyring-module.cjs');
const fakeKeyring = (timeoutMs: number) =>
  createSystemKeyring({ timeoutMs, launch: nodeKeyringBroker({ keyringModule: fakeModule }) });

/** Whether `pid` runs: a zombie (dead, not yet reaped by whoever adopted it) does not. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
};

/** Waits (a real process ending; at most `ms`) until `pid` is gone; whether it is. */
async function gone(pid: number, ms = 500): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('the keychain broker', () => {
  it('answers a call that never returns as keyring_unavailable, and the process keeps its file I/O', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
    folders.push(folder);
    // Each hung call holds one of the broker's libuv pool threads, as a stuck native call does.
    const fifo = join(folder, 'never-written');
    execFileSync('mkfifo', [fifo]);
    process.env['CODEX_LAB_FAKE_KEYRING_FIFO'] = fifo;
    try {
      const keyring = fakeKeyring(300);
      await keyring.set('alice', 'tokens');
      const started = Date.now();
      const hung = Array.from({ length: 6 }, () =>
        keyring.get('hang').then(
          () => 'ok',
          (e) => e,
        ),
      );
      // Six stuck calls are more than a pool has threads: this process's file reads go on.
      const readStarted = Date.now();
      await readdir(folder);
      expect(Date.now() - readStarted).toBeLessThan(500);
      for (const error of await Promise.all(hung)) {
        expect(error).toMatchObject({ code: 'keyring_unavailable' });
        expect((error as Error).message).toContain('no answer within');
      }
      expect(Date.now() - started).toBeLessThan(3000);
      // The stuck broker was replaced: the next call is answered (by a new, empty one).
      await keyring.set('bob', 'tokens');
      expect(await keyring.get('bob')).toBe('tokens');
    } finally {
      delete process.env['CODEX_LAB_FAKE_KEYRING_FIFO'];
    }
  });

  it('answers a call whose native code aborts as keyring_unavailable, and the next call works', async () => {
    const keyring = fakeKeyring(5000);
    const first = Number(await keyring.get('pid'));
    await expect(keyring.get('abort')).rejects.toMatchObject({
      code: 'keyring_unavailable',
      message: expect.stringContaining('SIGABRT'),
    });
    expect(await gone(first)).toBe(true);
    const second = Number(await keyring.get('pid'));
    expect(second).not.toBe(first);
    await keyring.set('alice', 'tokens');
    expect(await keyring.get('alice')).toBe('tokens');
  });

  it('never outlives its parent, killed mid-call or ending normally', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
    folders.push(folder);
    const fifo = join(folder, 'never-written');
    execFileSync('mkfifo', [fifo]);
    const parentScript = join(repositoryRoot, 'test/helpers/keyring-broker-parent.ts');
    // The broker is stuck in a native call (a pool thread) when its parent is killed.
    const killed = spawn(process.execPath, [parentScript, fakeModule, 'hang'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CODEX_LAB_FAKE_KEYRING_FIFO: fifo },
    });
    const lines = createInterface({ input: killed.stdout })[Symbol.asyncIterator]();
    const broker = Number((await lines.next()).value);
    expect(alive(broker)).toBe(true);
    killed.kill('SIGKILL');
    expect(await gone(broker)).toBe(true);

    // An idle broker does not keep a finished command running, and goes with it.
    const started = Date.now();
    const ended = spawnSync(process.execPath, [parentScript, fakeModule, 'exit'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(ended.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await gone(Number(ended.stdout.trim()))).toBe(true);
  });
});

const which = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const realKeyring =
  process.platform === 'linux' && which('dbus-run-session') && which('gnome-keyring-daemon');

describe.skipIf(!realKeyring)('a real gnome-keyring that stops answering', () => {
  it('costs the calls it stalls, never the file I/O of the process that made them', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-stall-'));
    folders.push(folder);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_DATA_HOME: join(folder, 'data'),
      XDG_RUNTIME_DIR: folder,
    };
    delete env['DBUS_SESSION_BUS_ADDRESS'];
    // A private bus and daemon, so stopping it cannot disturb another test's keychain.
    const session = spawn(
      'dbus-run-session',
      [
        '--',
        'sh',
        '-c',
        'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; echo "$DBUS_SESSION_BUS_ADDRESS"; exec sleep 120',
      ],
      { env, stdio: ['ignore', 'pipe', 'ignore'], detached: true },
    );
    let daemon: number | undefined;
    try {
      const address = await new Promise<string>((resolve) =>
        createInterface({ input: session.stdout! }).once('line', resolve),
      );
      daemon = await daemonOf(address);
      const child = spawn(
        process.execPath,
        [join(repositoryRoot, 'test/helpers/keyring-stall-child.ts')],
        { env: { ...env, DBUS_SESSION_BUS_ADDRESS: address }, stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');
      process.kill(daemon, 'SIGSTOP');
      child.stdin!.write('go\n');
      const result = JSON.parse((await lines.next()).value as string) as {
        fileMs: number;
        calls: { code: string; ms: number }[];
      };
      expect(result.fileMs).toBeLessThan(500);
      for (const call of result.calls) {
        expect(call.code).toBe('keyring_unavailable');
        // The native call waits for D-Bus's own timeout, one call after another (seconds each).
        expect(call.ms).toBeLessThan(3000);
      }
    } finally {
      if (daemon !== undefined && alive(daemon)) process.kill(daemon, 'SIGKILL');
      if (session.pid !== undefined) process.kill(-session.pid, 'SIGKILL');
    }
  });
});

/** The gnome-keyring-daemon serving the bus at `address` (it detaches, so it is looked up). */
async function daemonOf(address: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const command = await readFile(`/proc/${entry}/cmdline`, 'utf8');
        if (!command.includes('gnome-keyring-daemon')) continue;
        const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
        if (environ.split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${address}`))
          return Number(entry);
      } catch {
        // A process that ended meanwhile.
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no gnome-keyring-daemon on the private bus');
}
