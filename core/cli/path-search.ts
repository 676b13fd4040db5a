/**
 * Finding programs the way a shell does: each absolute folder of `PATH` in order, with Windows'
 * `PATHEXT` extensions. Used for `codex` (`codex-lab codex`) and for `codex-lab` itself (the
 * `codex-config` block names it only when Codex will find it).
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

/**
 * How another program (Codex running the `codex-config` block's token command, without a shell)
 * starts this `codex-lab`: `['codex-lab']` when that name is on `PATH`, else this Node and this
 * command's script by absolute path, so the block works before (or without) the set-up's
 * `npm install --global .`.
 */
export function codexLabLauncher(
  env: NodeJS.ProcessEnv,
  script: string | undefined = process.argv[1],
): string[] {
  if (findOnPath('codex-lab', env) !== null || script === undefined) return ['codex-lab'];
  let path = script;
  try {
    path = realpathSync(script);
  } catch {
    // An unreadable link still names the script well enough.
  }
  return [process.execPath, path];
}
