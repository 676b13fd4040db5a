/**
 * A profile kept in the OS keychain, through the real `codex-lab` command, with the keychain on
 * a private gnome-keyring and then out of reach (no D-Bus session bus): every command says the
 * same about it as the router does, none leaves anything behind that later commands talk about,
 * and a keychain sign-in the registry lost is said on every load until it is listed again.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { createSystemKeyring, keyringAccountFor } from '../../core/profiles/keyring.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab, type CliRun } from '../helpers/cli.ts';
import { startServe, stopServes } from './cli-serve-helper.ts';
import {
  privateKeyringAvailable,
  startPrivateKeyring,
  type PrivateKeyring,
} from '../helpers/private-keyring.ts';

if (!privateKeyringAvailable) {
  console.warn('[keyring] skipping the unreachable-keychain CLI test: no dbus-run-session here');
}

const noBus = 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service';

describe.skipIf(!privateKeyringAvailable)('a keychain profile through the CLI', () => {
  let keyring: PrivateKeyring;
  let fake: FakeChatGpt;
  let home: string;
  let paths: LabPaths;
  let noKeychain: Record<string, string | undefined>;
  const saved = { address: process.env['DBUS_SESSION_BUS_ADDRESS'] };
  const busFolder = mkdtempSync(join(tmpdir(), 'codex-lab-kc-bus-'));

  beforeAll(async () => {
    keyring = await startPrivateKeyring(busFolder);
    // This process's own keychain calls (the store below) go to the private keychain too.
    process.env['DBUS_SESSION_BUS_ADDRESS'] = keyring.address;
    fake = await startFakeChatGpt();
    fake.addAccount({ email: 'alice@example.com' });
  });

  afterAll(async () => {
    await fake?.close();
    await keyring?.stop();
    rmSync(busFolder, { recursive: true, force: true });
    if (saved.address === undefined) delete process.env['DBUS_SESSION_BUS_ADDRESS'];
    else process.env['DBUS_SESSION_BUS_ADDRESS'] = saved.address;
  });

  /** A home with alice kept in the keychain as "vault". */
  async function keychainHome(): Promise<ProfileStore> {
    home = await makeTempHome('codex-lab-kc-');
    paths = labPaths(home);
    // An empty runtime folder: no bus socket to find there either.
    const runtime = join(home, 'no-bus');
    mkdirSync(runtime);
    noKeychain = {
      DBUS_SESSION_BUS_ADDRESS: undefined,
      XDG_RUNTIME_DIR: runtime,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    };
    const store = new ProfileStore({ paths, keyring: createSystemKeyring() });
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
      requestedName: 'vault',
      store: 'keyring',
    });
    return store;
  }

  const withKeychain = (): Record<string, string | undefined> => ({
    ...keyring.env,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  });
  const cli = (args: string[], env: Record<string, string | undefined>): Promise<CliRun> =>
    runCodexLab(args, { home, env });
  const journal = () =>
    readdirSync(paths.journalDir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);

  it('is never "ready" without its keychain: list, usage --refresh name it, exit 1', async () => {
    const store = await keychainHome();
    try {
      const unread = `The OS keychain is locked or unavailable (${noBus}), so vault's sign-in cannot be read`;
      const listed = await cli(['list'], noKeychain);
      expect(listed.stdout).toContain('keychain unavailable');
      expect(listed.stdout).not.toMatch(/\bready\b/);
      expect(listed.stderr).toContain(unread);
      expect(listed.code).toBe(1);

      const refreshed = await cli(['usage', '--refresh', '--json'], noKeychain);
      expect(refreshed.code).toBe(1);
      const [view] = JSON.parse(refreshed.stdout) as Array<{ name: string; status: string }>;
      expect(view).toMatchObject({ name: 'vault', status: 'auth_error' });
      expect(refreshed.stderr).toContain(unread);

      // With its keychain the same profile reads, and nothing is said.
      const fine = await cli(['list'], withKeychain());
      expect(fine.stderr).toBe('');
      expect(fine.code).toBe(0);
    } finally {
      await store.remove('vault').catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('refuses a rename without its keychain, saying so, and leaves no record behind', async () => {
    const store = await keychainHome();
    try {
      const renamed = await cli(['rename', 'vault', 'v2'], noKeychain);
      expect(renamed.code).toBe(1);
      expect(renamed.stderr.trim()).toMatch(
        new RegExp(`^codex-lab: vault was not renamed: .*\\(${escape(noBus)}\\)`),
      );
      expect(journal()).toEqual([]);
      for (const args of [['pins'], ['use', 'vault']]) {
        const later = await cli(args, noKeychain);
        expect(later.stderr, args.join(' ')).not.toMatch(/journal/i);
      }
      expect((await store.listProfiles()).map((entry) => entry.name)).toEqual(['vault']);
    } finally {
      await store.remove('vault').catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('refuses to start a sign-in again to it without its keychain, before any URL', async () => {
    const store = await keychainHome();
    try {
      const again = await cli(['login', '--no-browser', 'vault'], {
        ...noKeychain,
        CODEX_LAB_CALLBACK_PORT: '0',
      });
      expect(again.code).toBe(1);
      expect(again.stdout).not.toContain('http');
      expect(again.stderr.trim()).toBe(
        `codex-lab: vault keeps its tokens in the OS keychain, which is not available (${noBus}), so no sign-in was started: run Codex Lab in the desktop session whose keychain keeps it, then sign in again.`,
      );
    } finally {
      await store.remove('vault').catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('says on every list that the keychain keeps a sign-in the registry lost', async () => {
    await keychainHome();
    const folder = paths.profileDir('vault');
    try {
      rmSync(paths.registry);
      const said = `codex-lab: ${folder} has no auth file, but the OS keychain keeps the sign-in of alice@example.com for it, which auth-profiles.json does not list: to list it again, run \`codex-lab login vault\` and sign in as alice@example.com.`;
      for (const load of [1, 2, 3]) {
        const listed = await cli(['list'], withKeychain());
        expect(listed.stderr, `list #${load}`).toContain(said);
        expect(listed.code).toBe(1);
      }
      // The router's state says it too (the dashboard's problems, with the fix to list it again).
      const serve = await startServe(home, {
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      });
      try {
        const token = (await cli(['token'], withKeychain())).stdout.trim();
        const state = (await (
          await fetch(`${serve.url}/lab/v1/state`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { problems: Array<{ code: string; message: string; fix?: unknown }> };
        expect(state.problems).toContainEqual(
          expect.objectContaining({
            code: 'unlisted_profile',
            message: expect.stringContaining(folder),
            fix: { action: 'add_account', name: 'vault', email: 'alice@example.com' },
          }),
        );
      } finally {
        await stopServes([serve]);
      }
    } finally {
      await createSystemKeyring()
        .delete(keyringAccountFor(folder))
        .catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
