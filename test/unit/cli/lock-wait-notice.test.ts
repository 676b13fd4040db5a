/**
 * A rename or remove whose profile another Codex Lab process keeps locked (a router stopped with
 * Ctrl-Z in the middle of a token refresh) waits for that lock, up to as long as a refresh may
 * take. It must not wait in silence: it says at once, on one stderr line, which process it waits
 * for and what to do if that process is stopped.
 */
import { describe, expect, it } from 'vitest';
import { createCliContext } from '../../../core/cli/context.ts';
import { runCli } from '../../../core/cli/main.ts';
import { withLock } from '../../../core/home/lock.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { terminal } from '../../helpers/terminal.ts';

describe('a profile change waiting for a lock another process holds', () => {
  it.each([
    [['rename', 'alice', 'work'], 'Renamed alice to work.'],
    [['remove', 'alice'], 'Removed alice.'],
  ])('%j says at once what it waits for', async (args, said) => {
    const home = tempFolder('codex-lab-lock-notice-');
    const paths = labPaths(home);
    await new ProfileStore({ paths }).saveSignIn({
      auth: makeAuth({ email: 'alice@example.com', accountId: 'acct-alice' }),
      requestedName: null,
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const holding = new Promise<void>((resolve) => (taken = resolve));
    const held = withLock(paths.locksDir, 'refresh-alice', async () => {
      taken();
      await released;
    });
    await holding;
    const stdout = terminal(null);
    const stderr = terminal(null);
    const run = runCli(args, createCliContext({ CODEX_LAB_HOME: home }, stdout, stderr));
    try {
      const deadline = Date.now() + 4000;
      while (stderr.text() === '' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stderr.text()).toBe(
        `codex-lab: Waiting for Codex Lab process ${process.pid}, which holds profile alice's token refresh (its new tokens are written first); if that process is stopped (Ctrl-Z), resume or end it.\n`,
      );
    } finally {
      release();
      await held;
    }
    expect(await run).toBe(0);
    expect(stdout.text()).toContain(said);
  });
});
