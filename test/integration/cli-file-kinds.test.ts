/**
 * State files a command cannot use. Something other than a regular file where the home keeps one
 * (a FIFO, a folder): every command that reads it says so in one sentence naming it and exits
 * non-zero at once, never waiting forever on a pipe nobody writes to, and leaves it where it is.
 * A file a command could not write what it promised to keep: the sentence, and exit 1.
 */
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLock } from '../../core/home/lock.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { tempFolder } from '../helpers/temp-folder.ts';

let fake: FakeChatGpt;
const env = () => ({
  CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
});

beforeAll(async () => {
  fake = await startFakeChatGpt({
    accounts: [{ email: 'alice@example.com' }],
    handlers: [handleIssuerRequest, handleBackendRequest],
  });
});

afterAll(async () => {
  await fake.close();
});

/** A home with one profile, alice, and the path under test replaced by `make`. */
async function homeWith(
  pick: (paths: LabPaths) => string,
  make: (path: string) => Promise<void>,
): Promise<{ home: string; path: string }> {
  const home = tempFolder('codex-lab-kinds-');
  await seedProfiles(fake, home, [{ name: 'alice', email: 'alice@example.com' }]);
  const paths = labPaths(home);
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const path = pick(paths);
  await rm(path, { recursive: true, force: true });
  await make(path);
  return { home, path };
}

const cases: [string, (paths: LabPaths) => string, string[]][] = [
  ['the registry', (paths) => paths.registry, ['list']],
  ["a profile's auth.json", (paths) => paths.profileAuth('alice'), ['list']],
  ['quota.json', (paths) => paths.quota, ['list']],
  ['health.json', (paths) => paths.health, ['list']],
  ['priming.json', (paths) => paths.priming, ['list']],
  ['activity.jsonl', (paths) => paths.activity, ['log']],
  ['the router token', (paths) => paths.routerToken, ['token']],
];

describe.skipIf(process.platform === 'win32')('a FIFO at a state path', () => {
  it.each(cases)('%s: one sentence naming it, exit 1 at once', async (_what, pick, args) => {
    const { home, path } = await homeWith(pick, async (at) => {
      execFileSync('mkfifo', [at]);
    });
    const run = await runCodexLab(args, { home, env: env(), timeoutMs: 10_000 });
    expect(run.signal, `${args.join(' ')} hung on the FIFO`).toBeNull();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${path} is not a regular file (a pipe, a socket or a device). Move it away and try again.`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect((await lstat(path)).isFIFO()).toBe(true);
  });
});

describe('a folder at activity.jsonl', () => {
  it('`log` names it with the shared sentence, not a raw EISDIR', async () => {
    const { home, path } = await homeWith(
      (paths) => paths.activity,
      (at) => mkdir(at),
    );
    const run = await runCodexLab(['log'], { home, env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `codex-lab: ${path} is a folder, not a file. Move it away and try again.`,
    );
  });
});

describe('activity.jsonl whose last whole line is no record', () => {
  it('`log` names it as damaged and exits 1, where it said "No requests yet"', async () => {
    const { home, path } = await homeWith(
      (paths) => paths.activity,
      (at) => writeFile(at, '[]\n'),
    );
    const run = await runCodexLab(['log'], { home, env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `codex-lab: ${path} is damaged at line 1; move it away to start a fresh activity log.`,
    );
    expect(run.stdout).toBe('');
  });
});

describe('a file from a newer Codex Lab', () => {
  it('`list` says so, with the upgrade to make, and leaves the registry untouched', async () => {
    const home = tempFolder('codex-lab-newer-');
    await seedProfiles(fake, home, [{ name: 'alice', email: 'alice@example.com' }]);
    const { registry } = labPaths(home);
    const text = JSON.stringify({ ...JSON.parse(await readFile(registry, 'utf8')), version: 2 });
    await writeFile(registry, text);
    for (const args of [['list'], ['rename', 'alice', 'work']]) {
      const run = await runCodexLab(args, { home, env: env() });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr.trim()).toBe(
        `codex-lab: ${registry} was written by a newer Codex Lab (file version 2; this one reads version 1). It was left untouched: upgrade Codex Lab to use it.`,
      );
    }
    expect(await readFile(registry, 'utf8')).toBe(text);
  });
});

describe('a state file that cannot be written', () => {
  it('`usage --refresh` exits 1 with the sentence it prints when quota.json cannot take the numbers', async () => {
    const home = tempFolder('codex-lab-unsaved-');
    await seedProfiles(fake, home, [{ name: 'alice', email: 'alice@example.com' }]);
    const paths = labPaths(home);
    // Another process holds the quota file's lock past the wait: the write gives up.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const taken = new Promise<void>((resolve) => (locked = resolve));
    const holder = withLock(paths.locksDir, 'quota', async () => {
      locked();
      await held;
    });
    await taken;
    try {
      const run = await runCodexLab(['usage', '--refresh'], {
        home,
        env: env(),
        timeoutMs: 60_000,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^codex-lab: The quota was read, but could not be saved: .*quota.*\.\n$/,
      );
      expect(run.stderr).not.toMatch(/"level"|\n\s+at /);
      // What the refresh read still shows.
      expect(run.stdout).toContain('alice');
    } finally {
      release();
      await holder;
    }
  }, 60_000);
});
