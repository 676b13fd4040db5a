/**
 * A home on a read-only filesystem (explorer report, defect 8): a folder that cannot be made is
 * said with the filesystem's own reason (read-only), never the ENOENT a recursive mkdir reports.
 * Tests run as root, where permissions stop no write: a read-only bind mount in a private mount
 * namespace (`unshare -m`) is the real thing; skipped where that is not allowed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens } from '../fakes/fake-issuer.ts';
import { cliEntry, makeTempHome, repoRoot } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

/** Runs the CLI with `home` mounted read-only (in its own mount namespace): stdout, stderr, exit. */
function runReadOnly(
  home: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  // Not spawnSync: the fake upstream answers from this process's event loop.
  const child = spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      `mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && shift && exec "$@"`,
      home,
      'x',
      process.execPath,
      cliEntry,
      ...args,
    ],
    { env: { ...process.env, CODEX_LAB_HOME: home, NO_COLOR: '1', ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

const canUnshare =
  spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status === 0 &&
  process.platform === 'linux';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.skipIf(!canUnshare)('a read-only home', () => {
  it('a folder that cannot be made is said to be on a read-only file system', async () => {
    dir = await mkdtemp(join(tmpdir(), 'codex-lab-ro-'));
    const script = [
      `import { ensurePrivateDirectory } from ${JSON.stringify(join(repoRoot, 'core/home/files.ts'))};`,
      `try { await ensurePrivateDirectory(${JSON.stringify(join(dir, 'state', 'locks'))}); console.log('made'); }`,
      `catch (error) { console.log(error.message); }`,
    ].join('\n');
    const run = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        `mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$1" --input-type=module -e "$2"`,
        dir,
        process.execPath,
        script,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stdout, run.stderr).toContain('read-only file system');
    expect(run.stdout).not.toContain('no such file');
    expect(run.stdout).toContain(join(dir, 'state', 'locks'));
  });

  it.each([
    [['usage', '--refresh'], 1, /^codex-lab: .*(EROFS|read-only)/],
    [['prime', 'alpha', '--dry-run'], 0, /^(codex-lab: .*\n)?$/],
  ] as const)(
    '%j with tokens to refresh: exit %i, saying what happened',
    async (args, code, said) => {
      const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
      const home = await makeTempHome('codex-lab-ro-home-');
      dir = home;
      try {
        await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
        await mkdir(labPaths(home).locksDir, { recursive: true });
        // The upstream refuses the token: a read needs a refresh, which needs the refresh lock.
        expireAccessTokens(fake, 'alpha@example.com');
        const run = await runReadOnly(home, [...args], {
          CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
          CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        });
        expect(run.code, run.stderr).toBe(code);
        expect(run.stderr).toMatch(said);
        // Nothing was read: never "read, but could not be saved".
        expect(run.stderr).not.toContain('was read');
        expect(run.stderr).not.toContain('ENOENT');
      } finally {
        await fake.close();
      }
    },
  );
});
