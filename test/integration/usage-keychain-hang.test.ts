/**
 * A keychain that hangs instead of refusing (a Secret Service whose bus takes the connection and
 * never answers, as a stuck unlock prompt does): `usage --refresh` with no router reads a
 * keychain profile's tokens for the refresh, then checks them for the table. The command waits for
 * that keychain once, under one deadline, not once per read (about 10 s, not 20 s and more).
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { keyringCallTimeoutMs } from '../../core/profiles/keyring.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { MemoryKeyring } from '../fakes/memory-keyring.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A D-Bus address whose socket takes every connection and never says a word. */
async function silentBus(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'codex-lab-silent-bus-'));
  const path = join(folder, 'bus');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(folder, { recursive: true, force: true });
  });
  return `unix:path=${path}`;
}

it.skipIf(process.platform !== 'linux')(
  'usage --refresh with no router waits for a keychain that hangs once',
  async () => {
    const home = await makeTempHome('codex-lab-usage-hang-');
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    // A profile kept in the keychain (the registry says so; its entry is never reached here).
    await new ProfileStore({ paths: labPaths(home), keyring: new MemoryKeyring() }).saveSignIn({
      auth: makeAuth({ email: 'vault@example.com', accountId: 'acct-vault' }),
      requestedName: 'vault',
      store: 'keyring',
    });
    const bus = await silentBus();
    const started = Date.now();
    const run = await runCodexLab(['usage', '--refresh'], {
      home,
      env: { DBUS_SESSION_BUS_ADDRESS: bus },
      timeoutMs: 60_000,
    });
    const took = Date.now() - started;
    expect(run.code, run.stderr).toBe(1);
    // Named once: the refresh's read met the keychain, and the table's check says no more.
    expect(run.stderr).toBe(
      `codex-lab: The OS keychain is locked or unavailable (no answer within ${keyringCallTimeoutMs / 1000} s), so vault's sign-in cannot be read: unlock the keychain.\n`,
    );
    expect(run.stdout).toMatch(/vault +keychain unavailable/);
    // One wait (and the command's own start), never a second one for the same keychain.
    expect(took).toBeGreaterThanOrEqual(keyringCallTimeoutMs);
    expect(took).toBeLessThan(keyringCallTimeoutMs * 1.5);
  },
  90_000,
);
