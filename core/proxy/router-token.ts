/**
 * The router's local bearer token: 32 random bytes, created once, stored 0600 at
 * `paths.routerToken`, and compared in constant time. Local clients (Codex, the CLI, the web
 * dashboard) present it; the upstream never sees it.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { LabError } from '../errors.ts';
import { fileMode, readTextFile, writePrivateFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';

/** A token as written: `clab_` + 43 base64url characters. */
const tokenPattern = /^clab_[A-Za-z0-9_-]{32,}$/;

/** Makes a fresh router token. */
export function generateRouterToken(): string {
  return `clab_${randomBytes(32).toString('base64url')}`;
}

/** Reads the stored router token, or undefined when none exists yet. */
export async function readRouterToken(paths: LabPaths): Promise<string | undefined> {
  const text = await readTextFile(paths.routerToken);
  if (text === undefined) return undefined;
  const token = text.trim();
  if (!tokenPattern.test(token)) {
    throw new LabError(
      'corrupt_file',
      `${paths.routerToken} does not hold a router token. It was left untouched: move it away and run codex-lab token to make a new one.`,
    );
  }
  // A token file others can read (copied, or restored from a backup) is made private again:
  // tightening the mode of our own secret loses nothing. (A file we do not own stays as it is.)
  await chmod(paths.routerToken, fileMode).catch(() => undefined);
  return token;
}

/**
 * Returns the router token, creating it (under a lock, so two processes starting together agree)
 * when missing.
 */
export async function loadOrCreateRouterToken(paths: LabPaths): Promise<string> {
  const existing = await readRouterToken(paths);
  if (existing) return existing;
  return withLock(paths.locksDir, 'router-token', async () => {
    const raced = await readRouterToken(paths);
    if (raced) return raced;
    const token = generateRouterToken();
    await writePrivateFile(paths.routerToken, `${token}\n`);
    return token;
  });
}

/**
 * Compares a presented token with the expected one in constant time. Both sides are hashed first
 * so neither the length nor any prefix leaks through timing.
 */
export function routerTokenMatches(expected: string, presented: string | undefined): boolean {
  return tokenMatcher(expected)(presented);
}

/**
 * `routerTokenMatches` with the expected side hashed once: the router checks every request, so
 * it pays for one hash per request instead of two.
 */
export function tokenMatcher(expected: string): (presented: string | undefined) => boolean {
  const left = createHash('sha256').update(expected).digest();
  return (presented) => {
    if (presented === undefined) return false;
    // The one-shot digest: no Hash stream object per request.
    return timingSafeEqual(left, hash('sha256', presented, 'buffer'));
  };
}

/** Pulls the token out of an `Authorization: Bearer …` header value. */
export function bearerFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
