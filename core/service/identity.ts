/**
 * The router's identity answer: `GET /.well-known/codex-lab?nonce=N` (public, no token). It names
 * the app, version, pid, port, start time, home and whether its dashboard is built, and proves that it holds this home's router
 * token with `proof = HMAC-SHA256(token, "codex-lab-identity:" + N)`. A client checks the proof
 * with the token it reads from the home before it ever sends that token, so a process that is not
 * our router (a stale `router.json`, another program on the port) never receives it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RouteHandler } from '../proxy/server.ts';
import { sendJson } from '../proxy/answers.ts';

/** The identity path. */
export const identityPath = '/.well-known/codex-lab';

/** What the router says about itself. */
export interface RouterIdentity {
  app: 'codex-lab';
  version: string;
  pid: number;
  port: number;
  startedAt: string;
  home: string;
  host: 'serve' | 'app';
  /**
   * Whether it has a built dashboard at `/ui/` (`dashboardBuilt`); absent from a router older
   * than this answer, which is taken to have one.
   */
  dashboard?: boolean;
  proof: string;
}

/** The proof for `nonce` under `token`. */
export function identityProof(token: string, nonce: string): string {
  return createHmac('sha256', token).update(`codex-lab-identity:${nonce}`).digest('hex');
}

/** A fresh nonce for one identity check. */
export function identityNonce(): string {
  return randomBytes(16).toString('hex');
}

/** True when `identity` proves knowledge of `token` for `nonce`. */
export function verifyIdentity(identity: unknown, token: string, nonce: string): boolean {
  const value = identity as Partial<RouterIdentity> | null;
  if (!value || value.app !== 'codex-lab' || typeof value.proof !== 'string') return false;
  const expected = Buffer.from(identityProof(token, nonce), 'hex');
  const presented = Buffer.from(value.proof, 'hex');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** The public handler answering the identity path. */
export function createIdentityRoute(
  describe: () => Omit<RouterIdentity, 'proof' | 'app'>,
  token: () => string,
): RouteHandler {
  return async (request, response, url) => {
    if (url.pathname !== identityPath || request.method !== 'GET') return false;
    const nonce = url.searchParams.get('nonce') ?? '';
    if (!/^[A-Za-z0-9_-]{8,128}$/.test(nonce)) {
      sendJson(response, 400, {
        ok: false,
        code: 'invalid_argument',
        message: 'Ask with ?nonce= and 8 to 128 letters or digits.',
      });
      return true;
    }
    sendJson(response, 200, {
      app: 'codex-lab',
      ...describe(),
      proof: identityProof(token(), nonce),
    } satisfies RouterIdentity);
    return true;
  };
}
