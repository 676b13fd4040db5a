/**
 * Codex's home folder, found as Codex finds it (`find_codex_home` in codex-rs): `CODEX_HOME` when
 * it is set and not empty, canonicalized (links followed, a relative one from the working folder);
 * else `.codex` in the user's home (on Windows the user profile folder, not `HOME`). Every place
 * that names Codex's files reads it from here, so what Codex Lab says and edits is the file Codex
 * reads.
 */
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { failure, success, type Result } from '../errors.ts';

/** Codex's home folder, and whether `CODEX_HOME` chose it. */
export interface CodexHome {
  folder: string;
  fromEnvironment: boolean;
}

/**
 * `path` with its links followed (realpath(3); the native variant matches Rust's
 * `fs::canonicalize` on macOS and Linux), or as given when it cannot be canonicalized (not there
 * yet). On Windows Rust's form also carries the extended-length prefix (`\\?\`), which Node drops:
 * this path is for showing and editing Codex's folder, where both name the same file; the keychain
 * key, which hashes the exact string, takes Rust's form (`codexKeyPath` in core/profiles).
 */
export function codexCanonicalPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/**
 * Codex's home folder for `env` (see the file's comment). The user's home is Codex's
 * (`dirs::home_dir`): `HOME` on macOS and Linux; on Windows the user profile folder
 * (`USERPROFILE`), never `HOME`, which Git for Windows sets for its shells, often to another
 * drive on a managed machine.
 */
export function codexHome(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): CodexHome {
  const value = env['CODEX_HOME'];
  if (value) return { folder: codexCanonicalPath(resolve(value)), fromEnvironment: true };
  const userHome = platform === 'win32' ? env['USERPROFILE'] : env['HOME'];
  return { folder: join(userHome || homedir(), '.codex'), fromEnvironment: false };
}

/**
 * Codex's home folder for `env` when Codex would start with it: a `CODEX_HOME` that is missing or
 * not a folder is refused by Codex itself ("CODEX_HOME points to …, but that path does not
 * exist"; 0.171 creates only its default `~/.codex`), so a launcher says so first, naming the
 * folder as the variable gives it, and starts nothing.
 */
export function checkCodexHome(env: NodeJS.ProcessEnv): Result<CodexHome> {
  const home = codexHome(env);
  if (!home.fromEnvironment) return success(home);
  const given = resolve(env['CODEX_HOME']!);
  const stat = statSync(home.folder, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return success(home);
  const why = stat === undefined ? 'which does not exist' : 'which is not a folder';
  return failure(
    'invalid_config',
    `CODEX_HOME points to ${given}, ${why}: create that folder, or point CODEX_HOME at Codex's folder.`,
  );
}

/** Codex's config file: `config.toml` in its home folder (`codexHome`). */
export function codexConfigFilePath(env: NodeJS.ProcessEnv): string {
  return join(codexHome(env).folder, 'config.toml');
}

/**
 * Codex's config file as a person reads its name: the full path when `CODEX_HOME` chose it, else
 * `~/.codex/config.toml`, the name Codex's own documentation gives it.
 */
export function codexConfigFileName(env: NodeJS.ProcessEnv): string {
  const home = codexHome(env);
  return home.fromEnvironment ? join(home.folder, 'config.toml') : '~/.codex/config.toml';
}
