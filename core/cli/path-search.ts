/**
 * Finding programs the way a shell does: each absolute folder of `PATH` in order, with Windows'
 * `PATHEXT` extensions. Used for `codex` (`codex-lab codex`) and for `codex-lab` itself (the
 * `codex-config` block names it only when Codex will find it), and for how Codex starts this very
 * `codex-lab` (its token command).
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** True when `path` is a file this user may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on `env.PATH`, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  const names =
    process.platform === 'win32'
      ? (env['PATHEXT'] ?? '.EXE;.CMD;.BAT')
          .split(';')
          .map((extension) => `${name}${extension.toLowerCase()}`)
      : [name];
  for (const folder of (env['PATH'] ?? '').split(delimiter)) {
    if (folder === '' || !isAbsolute(folder)) continue;
    for (const candidate of names.map((file) => join(folder, file))) {
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

/** Options for `codexLabLauncher`. */
export interface LauncherOptions {
  /**
   * Always this Node and this script, even when a `codex-lab` is on `PATH`: for a command Codex
   * runs while this `codex-lab` waits for it (`codex-lab codex`), so the token command is the same
   * program, of the same version, as the one that started Codex.
   */
  sameProgram?: boolean;
}

/**
 * How another program (Codex running the token command of the `codex-config` block or of
 * `codex-lab codex`, without a shell) starts this `codex-lab`: `['codex-lab']` when that name is
 * on `PATH` (a pasted block then survives an upgrade that moves the install), else this Node and
 * this command's script by real path, so the block works before (or without) the set-up's
 * `npm install --global .`.
 */
export function codexLabLauncher(
  env: NodeJS.ProcessEnv,
  script: string | undefined = process.argv[1],
  options: LauncherOptions = {},
): string[] {
  if (script === undefined) return ['codex-lab'];
  if (options.sameProgram !== true && findOnPath('codex-lab', env) !== null) return ['codex-lab'];
  let path = script;
  try {
    path = realpathSync(script);
  } catch {
    // An unreadable link still names the script well enough.
  }
  return [process.execPath, path];
}
