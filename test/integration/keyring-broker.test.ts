import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSystemKeyring,
  nodeKeyringBroker,
  probeKeyring,
  useKeyringBroker,
} from '../../core/profiles/keyring.ts';
import { labPaths } from '../../core/home/paths.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { repositoryRoot } from '../helpers/auth-harness.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { codexTurnBody, postToRouter } from '../helpers/lab-service.ts';
import { privateKeyringAvailable, startPrivateKeyring } from '../helpers/private-keyring.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

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

/**
 * The id of the broker holding a call on the fake's CODEX_LAB_FAKE_KEYRING_HOLD file, once one
 * other than `previous` does (at most 3 s).
 */
async function holder(hold: string, previous?: number): Promise<number> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const pid = Number(readFileSync(hold, 'utf8'));
    if (pid && pid !== previous) return pid;
    if (Date.now() > deadline) throw new Error(`no broker other than ${previous} holds the call`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `body` with the fake holding every call on an ordinary account until `hold` is gone. */
async function holding(body: (hold: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
  folders.push(folder);
  const hold = join(folder, 'hold');
  writeFileSync(hold, '');
  process.env['CODEX_LAB_FAKE_KEYRING_HOLD'] = hold;
  try {
    await body(hold);
  } finally {
    delete process.env['CODEX_LAB_FAKE_KEYRING_HOLD'];
    rmSync(hold, { force: true });
  }
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

  it('sends a call whose broker was killed under it to a new broker, where it lands', async () => {
    await holding(async (hold) => {
      const keyring = fakeKeyring(5000);
      // Sign-in's token write, in flight when something kills the broker.
      const write = keyring.set('alice', 'tokens').then(
        () => 'ok',
        (error: unknown) => error,
      );
      const first = await holder(hold);
      process.kill(first, 'SIGKILL');
      const second = await holder(hold, first);
      rmSync(hold);
      expect(await write).toBe('ok');
      expect(await keyring.get('alice')).toBe('tokens');
      expect(Number(await keyring.get('pid'))).toBe(second);
    });
  });

  it("fails a refused write alone: the calls its broker's kill cut short land on a new broker", async () => {
    await holding(async (hold) => {
      const keyring = fakeKeyring(5000);
      // Another profile's token write and a read, in flight in the same broker.
      const write = keyring.set('bob', 'B').then(
        () => 'ok',
        (error: unknown) => error,
      );
      const read = keyring.get('carol').then(
        (value) => `ok ${value}`,
        (error: unknown) => error,
      );
      const first = await holder(hold);
      await expect(keyring.set('refused', 'A')).rejects.toMatchObject({
        code: 'keyring_unavailable',
        message: expect.stringContaining('denied'),
      });
      // The failed write still ends its broker.
      expect(await gone(first)).toBe(true);
      await holder(hold, first);
      rmSync(hold);
      expect(await write).toBe('ok');
      expect(await read).toBe('ok null');
      expect(await keyring.get('bob')).toBe('B');
    });
  });

  it('fails a call whose broker dies under it twice, and starts no third broker for it', async () => {
    await holding(async (hold) => {
      let started = 0;
      const launch = nodeKeyringBroker({ keyringModule: fakeModule });
      const keyring = createSystemKeyring({
        timeoutMs: 5000,
        launch: () => {
          started++;
          return launch();
        },
      });
      const write = keyring.set('alice', 'tokens').then(
        () => 'ok',
        (error: unknown) => error,
      );
      const first = await holder(hold);
      process.kill(first, 'SIGKILL');
      const second = await holder(hold, first);
      process.kill(second, 'SIGKILL');
      expect(await write).toMatchObject({
        code: 'keyring_unavailable',
        message: expect.stringContaining('SIGKILL'),
      });
      expect(started).toBe(2);
      rmSync(hold);
      // The next call starts a broker of its own.
      await keyring.set('alice', 'tokens');
      expect(started).toBe(3);
    });
  });

  it('is killed when a write fails, so a write it had started cannot land over a newer one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
    folders.push(folder);
    const late = join(folder, 'late');
    writeFileSync(late, '');
    process.env['CODEX_LAB_FAKE_KEYRING_LATE'] = late;
    try {
      const keyring = fakeKeyring(5000);
      const first = Number(await keyring.get('pid'));
      // The refresh spent token A's predecessor; writing A is reported aborted.
      await expect(keyring.set('alice', 'A')).rejects.toMatchObject({
        code: 'keyring_unavailable',
      });
      expect(await gone(first)).toBe(true);
      rmSync(late);
      // The next refresh's B must stay: A's write was not left running to land after it.
      await keyring.set('alice', 'B');
      expect(await keyring.get('alice')).toBe('B');
    } finally {
      delete process.env['CODEX_LAB_FAKE_KEYRING_LATE'];
    }
  });

  it('is one per process, whatever the number of stores', async () => {
    let started = 0;
    const launch = nodeKeyringBroker({ keyringModule: fakeModule });
    useKeyringBroker(() => {
      started++;
      return launch();
    });
    try {
      // The router builds a store (and so a keychain) per state read.
      const pids = await Promise.all(
        Array.from({ length: 5 }, () => createSystemKeyring().get('pid')),
      );
      expect(new Set(pids).size).toBe(1);
      expect(started).toBe(1);
    } finally {
      // The default again (a Node child process with the real module), for the tests after.
      useKeyringBroker(nodeKeyringBroker());
    }
  });

  it.skipIf(process.platform !== 'linux')(
    "a probe that fails (and so ends its broker) costs no other caller of the process's broker its call",
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
      folders.push(folder);
      const gate = join(folder, 'gate');
      const locked = join(folder, 'locked');
      execFileSync('mkfifo', [gate]);
      process.env['CODEX_LAB_FAKE_KEYRING_GATE'] = gate;
      process.env['CODEX_LAB_FAKE_KEYRING_LOCKED'] = locked;
      const savedBus = process.env['DBUS_SESSION_BUS_ADDRESS'];
      process.env['DBUS_SESSION_BUS_ADDRESS'] ??= 'unix:path=/nonexistent';
      useKeyringBroker(nodeKeyringBroker({ keyringModule: fakeModule }));
      try {
        // A refresh's keychain read, in flight in the process's one broker.
        const held = createSystemKeyring()
          .get('gate')
          .then(
            (value) => `ok ${value}`,
            (error: unknown) => `failed ${(error as Error).message}`,
          );
        const writer = await open(gate, 'w');
        // Meanwhile `login --keyring` probes a keychain now locked: its write is refused.
        writeFileSync(locked, '');
        expect(await probeKeyring()).toMatchObject({ available: false });
        // (A broker killed meanwhile has closed its end.)
        await writer.write('tokens').catch(() => undefined);
        await writer.close().catch(() => undefined);
        expect(await held).toBe('ok tokens');
      } finally {
        useKeyringBroker(nodeKeyringBroker());
        if (savedBus === undefined) delete process.env['DBUS_SESSION_BUS_ADDRESS'];
        else process.env['DBUS_SESSION_BUS_ADDRESS'] = savedBus;
        delete process.env['CODEX_LAB_FAKE_KEYRING_GATE'];
        delete process.env['CODEX_LAB_FAKE_KEYRING_LOCKED'];
      }
    },
  );

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
  it.skipIf(process.platform === 'win32')(
    'finishes a call in flight when Ctrl-C or SIGTERM reaches the whole process group',
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'codex-lab-broker-'));
      folders.push(folder);
      const gate = join(folder, 'gate');
      execFileSync('mkfifo', [gate]);
      const parentScript = join(repositoryRoot, 'test/helpers/keyring-broker-parent.ts');
      // Its own process group, as a terminal gives a command: the signals below reach only it.
      const parent = spawn(process.execPath, [parentScript, fakeModule, 'signals'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CODEX_LAB_FAKE_KEYRING_GATE: gate },
        detached: true,
      });
      try {
        const lines = createInterface({ input: parent.stdout })[Symbol.asyncIterator]();
        const next = async () => String((await lines.next()).value);
        await next(); // the broker's pid
        expect(await next()).toBe('calling');
        // The broker has the call in flight once it opens the gate for reading.
        const writer = await open(gate, 'w');
        process.kill(-parent.pid!, 'SIGINT');
        process.kill(-parent.pid!, 'SIGTERM');
        const seen = [await next(), await next()];
        expect(seen.sort()).toEqual(['SIGINT', 'SIGTERM']);
        await writer.write('tokens').catch(() => undefined);
        await writer.close().catch(() => undefined);
        // Answered by the broker that had the call: the signals did not end it.
        expect(await next()).toBe('ok tokens');
      } finally {
        process.kill(-parent.pid!, 'SIGKILL');
      }
    },
  );
});

describe.skipIf(!privateKeyringAvailable)('a real gnome-keyring that stops answering', () => {
  it('costs the calls it stalls or that its death cuts short, never the file I/O of the process that made them', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-stall-'));
    folders.push(folder);
    const keychain = await startPrivateKeyring(folder);
    const child = spawn(
      process.execPath,
      [join(repositoryRoot, 'test/helpers/keyring-stall-child.ts')],
      { env: keychain.env, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const round = async () =>
        JSON.parse((await lines.next()).value as string) as {
          fileMs: number;
          calls: { code: string; ms: number }[];
        };
      expect((await lines.next()).value).toBe('ready');

      // Stopped: no answer ever comes.
      await keychain.signal('SIGSTOP');
      child.stdin!.write('go\n');
      const stalled = await round();
      expect(stalled.fileMs).toBeLessThan(500);
      for (const call of stalled.calls) {
        expect(call.code).toBe('keyring_unavailable');
        // The native call waits for D-Bus's own timeout, one call after another (seconds each).
        expect(call.ms).toBeLessThan(3000);
      }

      // Killed mid-call (D-Bus then starts a locked one on the next call).
      child.stdin!.write('go\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await keychain.signal('SIGKILL');
      const killed = await round();
      expect(killed.fileMs).toBeLessThan(500);
      // No call can succeed: the daemon that held the entry answers nothing until it dies, and
      // the one D-Bus starts next has the keychain locked. Each fails: cut short, or past its
      // deadline.
      for (const call of killed.calls) {
        expect(call.code).toBe('keyring_unavailable');
        expect(call.ms).toBeLessThan(3000);
      }
    } finally {
      child.kill('SIGKILL');
      await keychain.stop();
    }
  });
});

describe.skipIf(!privateKeyringAvailable)('codex-lab serve while its real keychain stalls', () => {
  const children: ServeChild[] = [];
  afterAll(() => stopServes(children));

  it('answers its state and file profiles at once, refuses the keychain profile, and stops on SIGTERM', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-stall-serve-'));
    folders.push(folder);
    const keychain = await startPrivateKeyring(folder);
    const fake = await startFakeChatGpt();
    try {
      fake.addAccount({ email: 'vault@example.com' });
      fake.addAccount({ email: 'plain@example.com' });
      const home = join(folder, 'home');
      const paths = labPaths(home);
      // This process's own broker, on the private bus (it takes the environment at its start).
      const saved = process.env['DBUS_SESSION_BUS_ADDRESS'];
      process.env['DBUS_SESSION_BUS_ADDRESS'] = keychain.address;
      const store = new ProfileStore({
        paths,
        keyring: createSystemKeyring({ launch: nodeKeyringBroker() }),
      });
      try {
        await store.saveSignIn({
          auth: issueAuthDotJson(fake, 'vault@example.com') as AuthDotJson,
          requestedName: 'vault',
          store: 'keyring',
        });
      } finally {
        if (saved === undefined) delete process.env['DBUS_SESSION_BUS_ADDRESS'];
        else process.env['DBUS_SESSION_BUS_ADDRESS'] = saved;
      }
      await store.saveSignIn({
        auth: issueAuthDotJson(fake, 'plain@example.com') as AuthDotJson,
        requestedName: 'plain',
      });
      const serve = await startServe(home, {
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        DBUS_SESSION_BUS_ADDRESS: keychain.address,
        XDG_RUNTIME_DIR: folder,
      });
      children.push(serve);
      const token = (await runCodexLab(['token'], { home })).stdout.trim();
      const pinnedTurn = (profile: string, session: string) =>
        postToRouter(serve.url, token, '/backend-api/codex/responses', codexTurnBody({ session }), {
          'x-codex-lab-profile': profile,
        });

      await keychain.signal('SIGSTOP');
      const started = Date.now();
      const stalled = Array.from({ length: 8 }, (_, index) =>
        pinnedTurn('vault', `vault-${index}`).then(async (answer) => ({
          status: answer.status,
          text: await answer.text(),
          ms: Date.now() - started,
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const asked = Date.now();
      const state = await fetch(`${serve.url}/lab/v1/state`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(state.status).toBe(200);
      const plain = await pinnedTurn('plain', 'plain-1');
      expect(await plain.text()).toContain('response.completed');
      expect(Date.now() - asked).toBeLessThan(1500);

      for (const turn of await Promise.all(stalled)) {
        expect(turn.status, turn.text.slice(0, 300)).toBe(400);
        expect(turn.text).toContain('The OS keychain is locked or unavailable');
        expect(turn.ms).toBeLessThan(15_000);
      }
      serve.child.kill('SIGTERM');
      const stopped = Date.now();
      await serve.exited;
      expect(Date.now() - stopped).toBeLessThan(5000);
    } finally {
      await keychain.stop();
      await fake.close();
    }
  });
});
