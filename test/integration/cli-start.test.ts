/**
 * `codex-lab list` starts lean (docs/benchmarks.md, "CLI cold start"): it loads the entry, the
 * Node-version guard and the one bundle file, and none of the code only other commands use (the
 * HTTP stack, the keychain, crypto, child processes, workers). The time itself is measured by
 * bench/cli-cold-start.mjs; this counts what is loaded, which does not depend on the machine.
 * Node's compile cache is kept in the user's own cache folder, never the shared temporary one.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { cliEntry, makeTempHome, repoRoot, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

const reporter = pathToFileURL(join(repoRoot, 'test/helpers/module-load-report.mjs')).href;

/** Builtins that only other commands need; each costs milliseconds to load. */
const heavyBuiltins = [
  'crypto',
  'child_process',
  'http',
  'https',
  'http2',
  'zlib',
  'worker_threads',
  'internal/fs/streams',
  'internal/deps/undici/undici',
];

describe('codex-lab list at start-up', () => {
  let home: string;
  beforeEach(async () => {
    home = await makeTempHome();
    const store = new ProfileStore({ paths: labPaths(home) });
    for (const index of [1, 2, 3]) {
      await store.saveSignIn({
        auth: makeAuth({ email: `user${index}@example.com`, accountId: `acct-${index}` }),
        requestedName: null,
      });
    }
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each([[['list']], [['list', '--json']]])(
    '%j loads three module files and no heavy builtin',
    async (args) => {
      const report = join(home, 'module-report.json');
      const run = await runCodexLab(args, {
        home,
        env: { NODE_OPTIONS: `--import=${reporter}`, CODEX_LAB_TEST_MODULE_REPORT: report },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('user3');
      const loaded = JSON.parse(await readFile(report, 'utf8')) as {
        files: string[];
        builtins: string[];
      };
      expect(loaded.files.map((url) => url.slice(pathToFileURL(repoRoot).href.length))).toEqual([
        '/bin/codex-lab.mjs',
        '/scripts/node-runtime.mjs',
        '/dist/cli/cli.mjs',
      ]);
      expect(loaded.builtins.filter((name) => heavyBuiltins.includes(name))).toEqual([]);
    },
  );

  it("keeps Node's compile cache in the user's cache folder (0600), not the shared temporary one", async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'codex-lab-compile-cache-'));
    try {
      const cache = join(scratch, 'cache');
      const temporary = join(scratch, 'tmp');
      const run = await runCodexLab(['list'], {
        home,
        env: { XDG_CACHE_HOME: cache, TMPDIR: temporary, NODE_COMPILE_CACHE: undefined },
      });
      expect(run.code, run.stderr).toBe(0);
      const folder = join(cache, 'codex-lab', 'compile-cache');
      const [tag] = await readdir(folder);
      const entries = await readdir(join(folder, tag!));
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect((await stat(join(folder, tag!, entry))).mode & 0o777).toBe(0o600);
      }
      await expect(readdir(temporary)).rejects.toThrow();
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it.skipIf(process.platform === 'win32')(
    'makes every folder of the compile cache 0700 under umask 000, and tightens an existing one',
    async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'codex-lab-compile-cache-'));
      try {
        const cache = join(scratch, 'cache');
        const ours = join(cache, 'codex-lab');
        const folder = join(ours, 'compile-cache');
        const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
        const listUnderUmask000 = () =>
          new Promise<number | null>((resolve, reject) => {
            // A shell sets the umask: the test process's own cannot change in a worker thread.
            const child = spawn(
              '/bin/sh',
              ['-c', 'umask 000 && exec "$0" "$1" list', process.execPath, cliEntry],
              {
                cwd: repoRoot,
                env: {
                  ...process.env,
                  CODEX_LAB_HOME: home,
                  XDG_CACHE_HOME: cache,
                  NODE_COMPILE_CACHE: '',
                },
                stdio: 'ignore',
              },
            );
            child.on('error', reject);
            child.on('close', resolve);
          });

        expect(await listUnderUmask000()).toBe(0);
        for (const path of [cache, ours, folder]) expect(await modeOf(path)).toBe(0o700);
        const [tag] = await readdir(folder);
        expect(await modeOf(join(folder, tag!))).toBe(0o700);

        // Left open by an older version (or by hand): tightened before Node uses it.
        await chmod(ours, 0o777);
        await chmod(folder, 0o777);
        await chmod(join(folder, tag!), 0o777);
        expect(await listUnderUmask000()).toBe(0);
        for (const path of [ours, folder, join(folder, tag!)])
          expect(await modeOf(path)).toBe(0o700);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  );
});
