/** Unsigned JWTs shaped like the ones auth.openai.com issues (Codex never verifies signatures). */
import { randomBytes } from 'node:crypto';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a compact JWT with an `alg: RS256`-looking header and a random signature. */
export function makeJwt(claims: Record<string, unknown>): string {
  return `${encode({ alg: 'RS256', typ: 'JWT', kid: 'fake' })}.${encode(claims)}.${randomBytes(32).toString('base64url')}`;
}
