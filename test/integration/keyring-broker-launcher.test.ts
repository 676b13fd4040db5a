/**
 * The desktop's keychain broker launcher (electron/keyring-broker-launcher.ts) with a stand-in for
 * Electron's utility process (test/helpers/utility-process-standin.ts) that runs the real broker
 * script with the stand-in keychain module.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSystemKeyring } from '../../core/profiles/keyring.ts';
import { electronKeyringBroker } from '../../electron/keyring-broker-launcher.ts';

vi.mock('electron', async () => {
  const { utilityProcessStandIn } = await import('../helpers/utility-process-standin.ts');
  return {
    utilityProcess: utilityProcessStandIn([join(process.cwd(), 'test/fakes/keyring-module.cjs')]),
  };
});

/** Whether `pid` runs (a zombie does not). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
};

/** Waits (a real process ending; at most `ms`) until `pid` is gone; whether it is. */
async function gone(pid: number, ms = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('the keychain broker in a utility process', () => {
  it('answers calls, and a call past its deadline kills it for good (it ignores SIGTERM)', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'codex-lab-launcher-'));
    folders.push(folder);
    const fifo = join(folder, 'never-written');
    execFileSync('mkfifo', [fifo]);
    process.env['CODEX_LAB_FAKE_KEYRING_FIFO'] = fifo;
    try {
      const keyring = createSystemKeyring({ timeoutMs: 200, launch: electronKeyringBroker });
      await keyring.set('alice', 'tokens');
      expect(await keyring.get('alice')).toBe('tokens');
      const broker = Number(await keyring.get('pid'));
      await expect(keyring.get('hang')).rejects.toMatchObject({ code: 'keyring_unavailable' });
      expect(await gone(broker)).toBe(true);
      // The next call starts another.
      expect(Number(await keyring.get('pid'))).not.toBe(broker);
    } finally {
      delete process.env['CODEX_LAB_FAKE_KEYRING_FIFO'];
    }
  });

  it('answers keyring_unavailable when the host cannot start it', async () => {
    const keyring = createSystemKeyring({
      launch: () => {
        throw new TypeError('utilityProcess.fork is not a function');
      },
    });
    await expect(keyring.set('alice', 'tokens')).rejects.toMatchObject({
      code: 'keyring_unavailable',
      message: expect.stringContaining('the keychain helper could not start'),
    });
  });
});
