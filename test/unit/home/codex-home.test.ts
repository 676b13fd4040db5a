/**
 * Codex's home folder as Codex finds it (`core/home/codex-home.ts`): `CODEX_HOME` when set and not
 * empty, canonicalized as Rust's `fs::canonicalize` does; else `~/.codex`. Every place that names
 * Codex's files (its config file, the block's comment) reads it from here.
 */
import { mkdir, realpath, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  codexConfigFileName,
  codexConfigFilePath,
  codexHome,
} from '../../../core/home/codex-home.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

describe('codexHome', () => {
  it('is CODEX_HOME through its links, or ~/.codex when it is unset or empty', async () => {
    const folder = tempFolder('codex-home-');
    const real = join(folder, 'real');
    await mkdir(real);
    await symlink(real, join(folder, 'link'));
    const canonical = await realpath(real);
    expect(codexHome({ CODEX_HOME: join(folder, 'link'), HOME: '/home/u' })).toEqual({
      folder: canonical,
      fromEnvironment: true,
    });
    expect(codexConfigFilePath({ CODEX_HOME: join(folder, 'link') })).toBe(
      join(canonical, 'config.toml'),
    );
    expect(codexConfigFileName({ CODEX_HOME: join(folder, 'link') })).toBe(
      join(canonical, 'config.toml'),
    );
    for (const env of [{ HOME: '/home/u' }, { HOME: '/home/u', CODEX_HOME: '' }]) {
      expect(codexHome(env)).toEqual({ folder: '/home/u/.codex', fromEnvironment: false });
      expect(codexConfigFilePath(env)).toBe('/home/u/.codex/config.toml');
      expect(codexConfigFileName(env)).toBe('~/.codex/config.toml');
    }
  });

  it('is in the user profile folder on Windows, as Codex finds it, whatever HOME says', () => {
    // Git for Windows sets HOME for its shells, on a managed machine often to another drive
    // (HOMEDRIVE + HOMEPATH, a network share); Codex's home folder is the profile folder
    // (`dirs::home_dir`), which USERPROFILE names. A config.toml written under HOME was one
    // Codex never read.
    const env = { HOME: 'H:\\', USERPROFILE: 'C:\\Users\\ann' };
    expect(codexHome(env, 'win32')).toEqual({
      folder: join('C:\\Users\\ann', '.codex'),
      fromEnvironment: false,
    });
    expect(codexHome(env, 'darwin')).toEqual({
      folder: join('H:\\', '.codex'),
      fromEnvironment: false,
    });
  });

  it('names a CODEX_HOME that is not there yet by its absolute path', () => {
    const env = { CODEX_HOME: '/nowhere/codex-home' };
    expect(codexConfigFileName(env)).toBe('/nowhere/codex-home/config.toml');
  });
});
