import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  canonicalRepoPath,
  enclosingRepository,
  repoPathCovers,
  repositoryOf,
} from '../../../core/profiles/repo-path.ts';

describe('repository paths for pins', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codex-lab-repo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('follows symlinks to the real path and resolves relative paths against the base', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    expect(await canonicalRepoPath('link', dir)).toBe(await canonicalRepoPath(join(dir, 'real')));
  });

  it('keeps a path that does not exist as resolved', async () => {
    expect(await canonicalRepoPath('/no/such/repo/../repo2')).toBe('/no/such/repo2');
  });

  it('refuses a relative path without a base, and an empty one', async () => {
    await expect(canonicalRepoPath('src')).rejects.toThrow(/not an absolute path/);
    await expect(canonicalRepoPath(' ')).rejects.toThrow(/empty/);
  });

  it('covers the repository itself and folders inside it, but not siblings sharing a prefix', () => {
    expect(repoPathCovers('/home/dev/repo', '/home/dev/repo')).toBe(true);
    expect(repoPathCovers('/home/dev/repo', '/home/dev/repo/packages/app')).toBe(true);
    expect(repoPathCovers('/home/dev/repo', '/home/dev/repo-other')).toBe(false);
    expect(repoPathCovers('/home/dev/repo/', '/home/dev/repo/x')).toBe(true);
  });

  it('finds the repository Codex names: the nearest folder holding .git, a worktree file too', async () => {
    const repo = join(dir, 'repo');
    await mkdir(join(repo, '.git'), { recursive: true });
    await mkdir(join(repo, 'packages', 'app'), { recursive: true });
    const worktree = join(repo, 'packages', 'linked');
    await mkdir(worktree);
    await writeFile(join(worktree, '.git'), 'gitdir: ../../.git/worktrees/linked\n');
    expect(await repositoryOf(repo)).toBe(repo);
    expect(await repositoryOf(join(repo, 'packages', 'app'))).toBe(repo);
    expect(await repositoryOf(worktree)).toBe(worktree);
    expect(await repositoryOf(join(dir, 'plain'))).toBe(null);
  });

  it('refuses a plain folder inside a repository, but not one holding a repository of its own', async () => {
    // A dotfiles repository at the home folder, with repositories under ~/work and ~/clients.
    const home = dir;
    await mkdir(join(home, '.git'));
    await mkdir(join(home, 'work', 'projA', '.git'), { recursive: true });
    await mkdir(join(home, 'clients', 'acme', 'widget', '.git'), { recursive: true });
    await mkdir(join(home, 'notes', 'drafts'), { recursive: true });
    // Only inside what is never searched: installed packages.
    await mkdir(join(home, 'tool', 'node_modules', 'package', '.git'), { recursive: true });
    // Three levels down: past the bounded look.
    await mkdir(join(home, 'deep', 'a', 'b', 'repo', '.git'), { recursive: true });
    expect(await enclosingRepository(join(home, 'work'))).toBe(null);
    expect(await enclosingRepository(join(home, 'clients'))).toBe(null);
    expect(await enclosingRepository(join(home, 'work', 'projA'))).toBe(null);
    expect(await enclosingRepository(join(home, 'notes'))).toBe(home);
    expect(await enclosingRepository(join(home, 'notes', 'drafts'))).toBe(home);
    expect(await enclosingRepository(join(home, 'tool'))).toBe(home);
    expect(await enclosingRepository(join(home, 'deep'))).toBe(home);
    expect(await enclosingRepository(join(home, 'missing'))).toBe(null);
  });
});
