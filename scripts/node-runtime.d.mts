/** Types for `node-runtime.mjs` (plain JavaScript, so that old Node versions can parse it). */

/** The oldest Node Codex Lab runs on, e.g. `22.12`. */
export const minimumNode: string;
/** True when `version` ("22.12.0" or "v20.20.2") is at least `minimumNode`. */
export function isSupportedNode(version: string): boolean;
/** The one sentence every entry point prints on an old Node. */
export function nodeGuardSentence(version: string): string;
/** The folder set-up installs Node 24 into. */
export function nodeCacheDir(env?: NodeJS.ProcessEnv): string;
/** The cached Node 24 binary, or null when set-up has not installed it. */
export function cachedNodeBinary(env?: NodeJS.ProcessEnv): string | null;
/** Where `codex-lab` keeps Node's compile cache, or null without a home folder. */
export function compileCacheDir(env?: NodeJS.ProcessEnv): string | null;
/** `compileCacheDir` with its folders made private (0700), or null when they cannot be. */
export function prepareCompileCacheDir(env?: NodeJS.ProcessEnv): string | null;
/** Tightens Node's per-version folder inside the cache to 0700. */
export function tightenCompileCacheEntry(directory: string | undefined): void;
