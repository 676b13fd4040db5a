/**
 * Finding programs the way a shell does: each absolute folder of `PATH` in order, with Windows'
 * `PATHEXT` extensions. Used for `codex` (`codex-lab codex`) and for `codex-lab` itself (the
 * `codex-config` block names it only when Codex will find it), and for how Codex starts this very
 * `codex-lab` (its token command).
 */
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, extname, isAbsolute, join } from 'node:path';

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

/** The first executable `name` on `env.PATH` (on Windows with a `PATHEXT` extension), or null. */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const names =
    platform === 'win32'
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

/** How a program is started without a shell: the file to run, and the arguments it needs first. */
export interface ProgramCommand {
  /** The program as found or named (npm's `codex.cmd`), the one a sentence names. */
  program: string;
  command: string;
  args: string[];
}

/**
 * The script an npm (or pnpm) Windows shim runs with node: `"%dp0%\node_modules\…\codex.js" %*`
 * (npm's cmd-shim), `"%~dp0\..\…\codex.js" %*` (pnpm's), relative to the shim's folder.
 */
const shimScriptPattern = /"%~?dp0%?\\([^"]+\.[cm]?js)"\s+%\*/i;

/**
 * How to start the program at `path` (found by `findOnPath`, or named by the user) without a
 * shell, or null when it cannot be. On Windows a batch file (`.cmd`, `.bat`) is what npm installs
 * a package's command as (`codex.cmd`); Node refuses to start one without a shell (spawn EINVAL,
 * since its fix for CVE-2024-27980), and a shell would re-read every argument (the quotes and
 * `%` of Codex's `-c` overrides, a prompt's `&`). An npm or pnpm shim only runs a script with
 * node, so that script is started with this Node instead; any other batch file cannot be started
 * safely (null). Any other program is started as it is.
 */
export function programCommand(
  path: string,
  platform: NodeJS.Platform = process.platform,
): ProgramCommand | null {
  const extension = extname(path).toLowerCase();
  if (platform !== 'win32' || (extension !== '.cmd' && extension !== '.bat')) {
    return { program: path, command: path, args: [] };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const relative = shimScriptPattern.exec(text)?.[1];
  if (relative === undefined) return null;
  // The shim's separators are Windows'; joined part by part, the path is this platform's.
  const script = join(dirname(path), ...relative.split('\\').filter((part) => part !== ''));
  try {
    if (!statSync(script).isFile()) return null;
  } catch {
    return null;
  }
  return { program: path, command: process.execPath, args: [script] };
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
 * `codex-lab codex`, without a shell) starts this `codex-lab`: `['codex-lab']` when Codex finds
 * that name on `PATH` (a pasted block then survives an upgrade that moves the install), else this
 * Node and this command's script by real path, so the block works before (or without) the
 * set-up's `npm install --global .`. On Windows Codex starts a bare name only as an `.exe`, so
 * npm's `codex-lab.cmd` does not count.
 */
export function codexLabLauncher(
  env: NodeJS.ProcessEnv,
  script: string | undefined = process.argv[1],
  options: LauncherOptions = {},
  platform: NodeJS.Platform = process.platform,
): string[] {
  if (script === undefined) return ['codex-lab'];
  const onPath = options.sameProgram === true ? null : findOnPath('codex-lab', env, platform);
  if (onPath !== null && (platform !== 'win32' || extname(onPath).toLowerCase() === '.exe')) {
    return ['codex-lab'];
  }
  let path = script;
  try {
    path = realpathSync(script);
  } catch {
    // An unreadable link still names the script well enough.
  }
  return [process.execPath, path];
}
