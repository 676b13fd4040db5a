/**
 * The upstream's turn states (`x-codex-turn-state`: its sticky-routing token for one turn), by the
 * account whose answer issued each (the caller's key for it, `upstreamHolder` in server.ts: the
 * account id with the signed-in user, never the profile's name, which a rename can give to
 * another account or seat). Codex echoes a turn's token on the turn's later requests;
 * native Codex keeps one account for a whole turn, so it never sends one account's token with
 * another's credentials. The router can move a turn to another profile (a fallback): that
 * request leaves the token off, and the other account issues its own.
 */
import type { IncomingHttpHeaders } from 'node:http';

const turnStateHeader = 'x-codex-turn-state';

/** A bounded record of which account each turn state was issued to. */
export class TurnStateIssuers {
  // Insertion order is age: the oldest token is forgotten first.
  readonly #issuedTo = new Map<string, string>();
  readonly #max: number;

  /** Remembers at most `max` tokens (turns are minutes long: the newest few thousand suffice). */
  constructor(max = 4096) {
    this.#max = Math.max(1, max);
  }

  /** Notes the turn state an answer of `profile` (the holder's key) carried, if any. */
  note(profile: string, answer: IncomingHttpHeaders): void {
    const token = answer[turnStateHeader];
    if (typeof token !== 'string' || token === '') return;
    // Re-inserted: a token a turn still echoes is the newest, whatever its age.
    this.#issuedTo.delete(token);
    this.#issuedTo.set(token, profile);
    if (this.#issuedTo.size > this.#max) {
      const oldest = this.#issuedTo.keys().next().value;
      if (oldest !== undefined) this.#issuedTo.delete(oldest);
    }
  }

  /**
   * Codex's request headers for `profile`: without a turn state another profile was issued (one
   * the router never saw, say from before a restart, goes as it came).
   */
  headersFor(headers: IncomingHttpHeaders, profile: string): IncomingHttpHeaders {
    const token = headers[turnStateHeader];
    if (typeof token !== 'string') return headers;
    const issuedTo = this.#issuedTo.get(token);
    if (issuedTo === undefined || issuedTo === profile) return headers;
    const { [turnStateHeader]: _other, ...rest } = headers;
    return rest;
  }
}
