/** Where everything lives under `CODEX_LAB_HOME` (docs/design.md section 2; the folder itself comes from `core/config`). */
import { join, resolve } from 'node:path';

/** Every path the core reads or writes, derived from one home folder. */
export interface LabPaths {
  /** The home folder itself. */
  readonly home: string;
  /** Legacy single-account file, used in place as profile `default` while no registry entry lists it. */
  readonly legacyAuth: string;
  /** The profile registry. */
  readonly registry: string;
  /** Folder holding one folder per profile. */
  readonly profilesDir: string;
  /** Router, quota and priming state, kept apart from the registry. */
  readonly stateDir: string;
  /** The router's local bearer token (0600). */
  readonly routerToken: string;
  /** Per-profile health: limited until, needs sign-in. */
  readonly health: string;
  /** Per-profile quota snapshots and short history. */
  readonly quota: string;
  /** Priming outcomes and settings. */
  readonly priming: string;
  /** The bounded activity, decision and per-request log (JSON lines). */
  readonly activity: string;
  /** One claim file per (profile, window, reset): created exclusively, survives restarts. */
  readonly primingClaimsDir: string;
  /** Lock targets for cross-process locks. */
  readonly locksDir: string;
  /**
   * Intent records of multi-step profile operations (rename, remove, new sign-in) and tokens a
   * refresh could not write in place; replayed on the next load (docs/storage.md, "Journal").
   */
  readonly journalDir: string;
  /** A profile's folder: a valid `CODEX_HOME` for auth. */
  profileDir(name: string): string;
  /** A profile's codex-compatible `auth.json`. */
  profileAuth(name: string): string;
}

/** Builds the path set for a home folder. Names must already be validated. */
export function labPaths(home: string): LabPaths {
  const root = resolve(home);
  const profilesDir = join(root, 'auth-profiles');
  const stateDir = join(root, 'state');
  return {
    home: root,
    legacyAuth: join(root, 'auth.json'),
    registry: join(root, 'auth-profiles.json'),
    profilesDir,
    stateDir,
    routerToken: join(stateDir, 'router-token'),
    health: join(stateDir, 'health.json'),
    quota: join(stateDir, 'quota.json'),
    priming: join(stateDir, 'priming.json'),
    activity: join(stateDir, 'activity.jsonl'),
    primingClaimsDir: join(stateDir, 'priming-claims'),
    locksDir: join(stateDir, 'locks'),
    journalDir: join(stateDir, 'journal'),
    profileDir: (name) => join(profilesDir, name),
    profileAuth: (name) => join(profilesDir, name, 'auth.json'),
  };
}
