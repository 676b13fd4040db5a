/**
 * PKCE and `state` (docs/codex-protocol.md sections 1.2 and 1.3), with oauth4webapi's
 * audited helpers for the S256 challenge and the state.
 */
import { randomBytes } from 'node:crypto';
import { calculatePKCECodeChallenge, generateRandomState } from 'oauth4webapi';

/** A PKCE verifier and its S256 challenge. */
export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
}

/**
 * A fresh PKCE pair: the verifier is 64 random bytes, base64url without padding (86 characters, as
 * Codex makes it); the challenge is base64url(SHA-256(verifier)).
 */
export async function createPkcePair(): Promise<PkcePair> {
  const codeVerifier = randomBytes(64).toString('base64url');
  return { codeVerifier, codeChallenge: await calculatePKCECodeChallenge(codeVerifier) };
}

/** A fresh `state`: 32 random bytes, base64url without padding. */
export function createState(): string {
  return generateRandomState();
}
