import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import {
  generateRouterToken,
  loadOrCreateRouterToken,
  readRouterToken,
} from '../../../core/proxy/router-token.ts';

let folder: string;
let paths: LabPaths;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-router-token-'));
  paths = labPaths(folder);
});
afterEach(() => rm(folder, { recursive: true, force: true }));

describe('the router token file', () => {
  it('is made 0600, and one that others could read is made private again when read', async () => {
    const made = await loadOrCreateRouterToken(paths);
    expect((await stat(paths.routerToken)).mode & 0o777).toBe(0o600);
    expect(await readRouterToken(paths)).toBe(made);

    // Restored from a backup, or copied by hand, world-readable.
    const restored = generateRouterToken();
    await mkdir(join(folder, 'state'), { recursive: true });
    await writeFile(paths.routerToken, `${restored}\n`);
    await chmod(paths.routerToken, 0o644);
    expect((await stat(paths.routerToken)).mode & 0o777).toBe(0o644);
    expect(await readRouterToken(paths)).toBe(restored);
    expect((await stat(paths.routerToken)).mode & 0o777).toBe(0o600);
  });
});
