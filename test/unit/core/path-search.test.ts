import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCodexCommand } from '../../../core/cli/commands/codex.ts';
import { codexLabLauncher, findOnPath, programCommand } from '../../../core/cli/path-search.ts';

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

/** What npm (cmd-shim) installs on Windows as `codex.cmd` for `npm install -g @openai/codex`. */
const npmCodexShim = [
  '@ECHO off',
  'GOTO start',
  ':find_dp0',
  'SET dp0=%~dp0',
  'EXIT /b',
  ':start',
  'SETLOCAL',
  'CALL :find_dp0',
  '',
  'IF EXIST "%dp0%\\node.exe" (',
  '  SET "_prog=%dp0%\\node.exe"',
  ') ELSE (',
  '  SET "_prog=node"',
  '  SET PATHEXT=%PATHEXT:;.JS;=;%',
  ')',
  '',
  'endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\node_modules\\@openai\\codex\\bin\\codex.js" %*',
  '',
].join('\r\n');

describe('programs found on PATH, as each platform starts them', () => {
  const windowsPath = (folder: string) => ({ PATH: folder, PATHEXT: '.COM;.EXE;.BAT;.CMD' });

  it('finds an npm command on Windows as its .cmd shim, and starts its script with this Node', async () => {
    const shim = join(folder, 'codex.cmd');
    await writeFile(shim, npmCodexShim, { mode: 0o755 });
    const script = join(folder, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');
    await mkdir(dirname(script), { recursive: true });
    await writeFile(script, '');
    expect(findOnPath('codex', windowsPath(folder), 'win32')).toBe(shim);
    // Node refuses to start a batch file without a shell (EINVAL), and a shell would re-read
    // Codex's arguments: the script the shim runs is started directly.
    expect(programCommand(shim, 'win32')).toEqual({
      program: shim,
      command: process.execPath,
      args: [script],
    });
  });

  it('has no way to start a batch file on Windows that is no npm shim', async () => {
    const batch = join(folder, 'codex.bat');
    await writeFile(batch, '@echo off\r\nC:\\tools\\codex.exe %*\r\n', { mode: 0o755 });
    expect(programCommand(batch, 'win32')).toBeNull();
  });

  it('starts any other program as it is', async () => {
    const program = join(folder, 'codex');
    await writeFile(program, '#!/bin/sh\n', { mode: 0o755 });
    expect(findOnPath('codex', { PATH: folder }, 'linux')).toBe(program);
    expect(programCommand(program, 'linux')).toEqual({ program, command: program, args: [] });
    expect(programCommand(join(folder, 'codex.exe'), 'win32')).toEqual({
      program: join(folder, 'codex.exe'),
      command: join(folder, 'codex.exe'),
      args: [],
    });
  });

  it('names codex-lab to Codex on Windows only as an .exe, which is all Codex starts by name', async () => {
    const script = join(folder, 'codex-lab.mjs');
    await writeFile(script, '');
    await writeFile(join(folder, 'codex-lab.cmd'), '@echo off\r\n', { mode: 0o755 });
    expect(codexLabLauncher(windowsPath(folder), script, {}, 'win32')).toEqual([
      process.execPath,
      await realpath(script),
    ]);
    await writeFile(join(folder, 'codex-lab.exe'), '', { mode: 0o755 });
    expect(codexLabLauncher(windowsPath(folder), script, {}, 'win32')).toEqual(['codex-lab']);
  });

  it('codex-lab codex refuses a batch file it cannot start in one sentence, before any router', async () => {
    const batch = join(folder, 'codex.bat');
    await writeFile(batch, '@echo off\r\nC:\\tools\\codex.exe %*\r\n', { mode: 0o755 });
    let refused: unknown;
    try {
      findCodexCommand(batch, {}, 'win32');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'codex_not_found' });
    expect((refused as Error).message).toContain(batch);
    expect((refused as Error).message).toContain('CODEX_LAB_CODEX_BIN');
  });
});
