import { mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codexLabLauncher } from '../../../core/cli/path-search.ts';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-launcher-'));
});
afterEach(() => rm(folder, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32')('codexLabLauncher', () => {
  it('names codex-lab on PATH for a pasted block, and this very program for codex-lab codex', async () => {
    // A `codex-lab` on PATH (the installed one, maybe another version), and this run's script
    // reached through a link, as npm's global bin does.
    await writeFile(join(folder, 'codex-lab'), '#!/bin/sh\n', { mode: 0o755 });
    const script = join(folder, 'codex-lab.mjs');
    await writeFile(script, '');
    const link = join(folder, 'link.mjs');
    await symlink(script, link);
    const env = { PATH: folder };
    expect(codexLabLauncher(env, link)).toEqual(['codex-lab']);
    expect(codexLabLauncher(env, link, { sameProgram: true })).toEqual([
      process.execPath,
      await realpath(script),
    ]);
    expect(codexLabLauncher({ PATH: '' }, link)).toEqual([
      process.execPath,
      await realpath(script),
    ]);
  });
});
