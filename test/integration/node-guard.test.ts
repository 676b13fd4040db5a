/**
 * On a Node older than 22.12 (the machine's own here), every entry point says so in one sentence
 * instead of failing somewhere inside: `bin/codex-lab.mjs` and the test runner. With the Node 24
 * that set-up caches, `bin/codex-lab.mjs` runs itself again under it. `npm start` without
 * Electron's binary points to the headless router.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cachedNodeBinary,
  isSupportedNode,
  nodeGuardSentence,
} from '../../scripts/node-runtime.mjs';
import { cliEntry, repoRoot } from '../helpers/cli.ts';
import { findElectronBinary } from '../../scripts/electron-binary.mjs';

/** A Node older than Codex Lab needs, from the machine's usual places, or null. */
function findOldNode(): { path: string; version: string } | null {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(path)) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (version !== '' && !isSupportedNode(version)) return { path, version };
  }
  return null;
}

const oldNode = findOldNode();

describe('isSupportedNode', () => {
  it('draws the line at 22.12', () => {
    expect(isSupportedNode('v20.20.2')).toBe(false);
    expect(isSupportedNode('22.11.9')).toBe(false);
    expect(isSupportedNode('v22.12.0')).toBe(true);
    expect(isSupportedNode('v24.1.0')).toBe(true);
  });
});

describe.skipIf(oldNode === null)(`under the machine's old Node (${oldNode?.version})`, () => {
  /** An empty `XDG_CACHE_HOME`: no Node 24 cached there. */
  let emptyCache: string;
  beforeAll(() => {
    emptyCache = mkdtempSync(join(tmpdir(), 'codex-lab-no-cache-'));
  });
  afterAll(() => rmSync(emptyCache, { recursive: true, force: true }));

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(oldNode!.path, args, {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: emptyCache, ...env },
      timeout: 60_000,
    });

  it('bin/codex-lab.mjs says in one sentence which Node it needs, with no Node 24 cached', () => {
    const result = run([cliEntry, 'list']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${nodeGuardSentence(oldNode!.version)}\n`);
  });

  it('the test runner says the same sentence instead of a false total', () => {
    const result = run(['scripts/test.mjs']);
    expect(result.status).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toBe(`${nodeGuardSentence(oldNode!.version)}\n`);
  });

  it.skipIf(cachedNodeBinary() === null)(
    "bin/codex-lab.mjs runs itself again under set-up's cached Node 24",
    () => {
      const result = spawnSync(oldNode!.path, [cliEntry, '--version'], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^codex-lab \d+\.\d+\.\d+\n$/);
      expect(result.status).toBe(0);
    },
  );
});

describe.skipIf(
  findElectronBinary({ env: process.env, root: repoRoot, platform: process.platform }) !== null,
)("npm start without Electron's binary", () => {
  it('points to npm run serve', () => {
    const result = spawnSync(process.execPath, ['scripts/electron-binary.mjs'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm run serve');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('scripts/with-node.sh sourced into a shell', () => {
  it('puts a supported Node on PATH and leaves the shell’s options as they were', () => {
    const script = join(repoRoot, 'scripts', 'with-node.sh');
    const run = spawnSync(
      'bash',
      ['-c', `source '${script}'; echo "options $-"; node --version; false; echo "still here"`],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    // No errexit (e) or nounset (u) left behind: a failing command no longer ends the shell.
    expect(run.stdout).toMatch(/^options [^eu\n]*$/m);
    expect(isSupportedNode(run.stdout.match(/^v\d+\.\d+\.\d+$/m)?.[0] ?? '')).toBe(true);
    expect(run.stdout).toContain('still here');
  });
});
