/**
 * Account-bound ciphertext (DESIGN.md section 9; docs/routing.md "Account-bound content").
 *
 * Codex replays every earlier reasoning item, with its `encrypted_content`, on every turn, and a
 * remote-compaction item carries a sealed blob too. Both are bound to the account that minted
 * them: replayed to another account, the upstream answers 400 `invalid_encrypted_content`. So the
 * router records which profile minted each blob of a session (seen as the answers stream past),
 * and when a request is served by another profile it removes the foreign blobs before sending.
 * Blobs of the serving profile, and blobs it has never seen (minted before a restart), stay
 * byte-exact; a 400 for those is caught by a stripped retry, which also teaches the router that
 * the blobs it has not seen are not the serving profile's (`disownUnseen`), so the session's later
 * turns go once, those blobs removed up front and the profile's own kept. After a restart, a
 * session the request log shows served by one profile alone has that profile presumed as the
 * owner of the blobs minted before it (`presume`), so a later move strips them up front instead.
 * Better still, each journaled request names the blobs its answer minted by a short digest
 * (`record` returns it), and a restarted router puts them back (`restore`): then it knows whose each
 * blob is, as before the restart, however many profiles served the session.
 *
 * A blob is known by its last characters: sealed tokens end in a MAC, so the tail is unique and
 * nothing hashes a multi-kilobyte string on the hot path. The digest (of the tail) is computed for
 * each blob minted, and on lookup only for a blob the session does not know by its tail when it has
 * digests put back. No blob, tail or digest is ever logged.
 */
import { hash } from 'node:crypto';

/** Characters of a blob's end that identify it. */
const tailLength = 48;
/** Item types whose `encrypted_content` is bound to the minting account. */
const reasoningType = 'reasoning';
const compactionType = 'compaction';

/** Bytes of SHA-256 a digest keeps: 96 bits, no collision among a session's few thousand blobs. */
const digestBytes = 12;
/**
 * Prefix of a restored digest's key in `SessionBlobs.owners`: not a base64 character, so it never
 * equals a tail (a blob is base64).
 */
const digestPrefix = '#';

function keyOf(blob: string): string {
  return blob.length <= tailLength ? blob : blob.slice(-tailLength);
}

/**
 * The short digest that names a blob outside memory (the request journal): base64url of the first
 * 12 bytes of SHA-256 of its key (the tail). It reveals nothing of the blob.
 */
export function ciphertextDigest(blob: string): string {
  return digestOfKey(keyOf(blob));
}

function digestOfKey(key: string): string {
  // The one-shot `hash` skips building a Hash object (a quarter less time per blob).
  return hash('sha256', key, 'buffer').subarray(0, digestBytes).toString('base64url');
}

/** Whether `value` has the shape of a digest (a journal line is read from a file). */
function isDigest(value: unknown): value is string {
  return typeof value === 'string' && value.length === 16 && /^[\w-]+$/.test(value);
}

interface SessionBlobs {
  /**
   * Blob key → profile that minted it, oldest first: a tail for a blob seen minted, or
   * `digestPrefix` + digest for one put back from the journal (`restore`).
   */
  owners: Map<string, string>;
  /** Whether `owners` holds digests put back (so a lookup by tail that misses tries the digest). */
  restored: boolean;
  /** Profile → how many of `owners` it minted. */
  counts: Map<string, number>;
  /** Who minted the blobs not in `owners` (the session's turns before a restart), if known. */
  presumed: string | null;
  /** Profiles the upstream refused this session's unseen blobs: none of them is theirs. */
  disowned: Set<string> | null;
}

/** Options for `CiphertextOwners`; the bounds keep memory flat however long the router runs. */
export interface CiphertextOwnersOptions {
  /** Sessions remembered (least recently used forgotten first). Default 10 000. */
  maxSessions?: number;
  /** Blobs remembered per session (oldest forgotten first). Default 4 096. */
  maxBlobsPerSession?: number;
}

/** Which profile minted each ciphertext of each session, in memory. */
export class CiphertextOwners {
  readonly #sessions = new Map<string, SessionBlobs>();
  readonly #maxSessions: number;
  readonly #maxBlobs: number;

  constructor(options: CiphertextOwnersOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#maxBlobs = options.maxBlobsPerSession ?? 4_096;
  }

  /**
   * `profile` minted `blob` in `sessionId`. Returns the blob's digest (`ciphertextDigest`), for the
   * request's journal record, so a restarted router can `restore` what it knew.
   */
  record(sessionId: string, profile: string, blob: string): string {
    const key = keyOf(blob);
    this.#set(this.#touch(sessionId), key, profile);
    return digestOfKey(key);
  }

  /**
   * Puts back, after a restart, what the router knew before it: `profile` minted the blobs of
   * `sessionId` with these digests (as `record` returned them). Anything not a digest is passed
   * over (the journal is a file). Knowledge as good as seeing them minted.
   */
  restore(sessionId: string, profile: string, digests: readonly unknown[]): void {
    if (digests.length === 0) return;
    const session = this.#touch(sessionId);
    for (const digest of digests) {
      if (!isDigest(digest)) continue;
      session.restored = true;
      this.#set(session, digestPrefix + digest, profile);
    }
  }

  #set(session: SessionBlobs, key: string, profile: string): void {
    const previous = session.owners.get(key);
    if (previous === profile) return;
    if (previous !== undefined) this.#uncount(session, previous);
    else if (session.owners.size >= this.#maxBlobs) {
      const [oldestKey, oldestOwner] = session.owners.entries().next().value as [string, string];
      session.owners.delete(oldestKey);
      this.#uncount(session, oldestOwner);
    }
    session.owners.set(key, profile);
    session.counts.set(profile, (session.counts.get(profile) ?? 0) + 1);
  }

  /**
   * `profile` minted every blob of `sessionId` the router has not seen (a restarted router learns
   * this from its request log: the session's turns were all answered by that profile). Only for a
   * session this process has not seen minting yet: what it saw itself is better knowledge.
   */
  presume(sessionId: string, profile: string): void {
    if (this.#sessions.get(sessionId)?.owners.size) return;
    this.#touch(sessionId).presumed = profile;
  }

  /**
   * The upstream refused `profile` a blob of `sessionId`, and the router had not seen it mint the
   * blobs it cannot attribute: from now on none of those is taken for `profile`'s (a presumption
   * that it minted them is dropped), so its later requests have them removed up front.
   */
  disownUnseen(sessionId: string, profile: string): void {
    const session = this.#touch(sessionId);
    if (session.presumed === profile) session.presumed = null;
    (session.disowned ??= new Set()).add(profile);
  }

  /** The session's record, created when new, made the most recent (the bound evicts the oldest). */
  #touch(sessionId: string): SessionBlobs {
    let session = this.#sessions.get(sessionId);
    if (session) {
      // Re-insert: the Map's order is the recency order.
      this.#sessions.delete(sessionId);
    } else {
      session = {
        owners: new Map(),
        restored: false,
        counts: new Map(),
        presumed: null,
        disowned: null,
      };
      if (this.#sessions.size >= this.#maxSessions) {
        const oldest = this.#sessions.keys().next().value;
        if (oldest !== undefined) this.#sessions.delete(oldest);
      }
    }
    this.#sessions.set(sessionId, session);
    return session;
  }

  /**
   * Whether a request of `sessionId` served by `profile` may carry a blob another profile minted:
   * the only case in which the router parses and rewrites the body.
   */
  hasForeign(sessionId: string | null, profile: string): boolean {
    if (sessionId === null) return false;
    const session = this.#sessions.get(sessionId);
    if (!session) return false;
    if (session.presumed !== null && session.presumed !== profile) return true;
    if (session.disowned?.has(profile)) return true;
    for (const owner of session.counts.keys()) if (owner !== profile) return true;
    return false;
  }

  /**
   * The profile that minted `blob` in `sessionId` (or is presumed to have, see `presume`), or
   * undefined when the router cannot tell.
   */
  ownerOf(sessionId: string, blob: string): string | undefined {
    const session = this.#sessions.get(sessionId);
    if (!session) return undefined;
    return ownerIn(session, blob) ?? session.presumed ?? undefined;
  }

  /**
   * Whether `blob` may go to `profile` in a request of `sessionId`: its own, or one the router
   * cannot attribute and has no reason to think foreign (the upstream judges it; a refusal is
   * caught by a stripped retry). A blob another profile minted, or presumably minted, never goes.
   */
  mayCarry(sessionId: string, profile: string, blob: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (!session) return true;
    const owner = ownerIn(session, blob);
    if (owner !== undefined) return owner === profile;
    if (session.disowned?.has(profile)) return false;
    return session.presumed === null || session.presumed === profile;
  }

  /** Whether the router saw `profile` mint `blob` in `sessionId` (not merely presumed it). */
  minted(sessionId: string, profile: string, blob: string): boolean {
    const session = this.#sessions.get(sessionId);
    return session !== undefined && ownerIn(session, blob) === profile;
  }

  /** Forgets a profile's blobs (removed) or moves them (renamed). */
  reassign(from: string, to: string | null): void {
    for (const session of this.#sessions.values()) {
      if (session.presumed === from) session.presumed = to;
      if (session.disowned?.delete(from) && to !== null) session.disowned.add(to);
      if (!session.counts.has(from)) continue;
      for (const [key, owner] of session.owners) {
        if (owner !== from) continue;
        if (to === null) session.owners.delete(key);
        else session.owners.set(key, to);
      }
      const count = session.counts.get(from) ?? 0;
      session.counts.delete(from);
      if (to !== null) session.counts.set(to, (session.counts.get(to) ?? 0) + count);
    }
  }

  #uncount(session: SessionBlobs, profile: string): void {
    const count = (session.counts.get(profile) ?? 1) - 1;
    if (count <= 0) session.counts.delete(profile);
    else session.counts.set(profile, count);
  }
}

/**
 * Who minted `blob` in `session`, as the router knows it: by its tail, or (for a session with
 * digests put back after a restart, and a blob not seen since) by its digest.
 */
function ownerIn(session: SessionBlobs, blob: string): string | undefined {
  const key = keyOf(blob);
  const owner = session.owners.get(key);
  if (owner !== undefined || !session.restored) return owner;
  return session.owners.get(digestPrefix + digestOfKey(key));
}

/** The outcome of stripping a body: a new body when something was removed, else null. */
export interface StripResult {
  body: Record<string, unknown>;
  /** Reasoning items that lost their ciphertext (kept or dropped) plus compaction items dropped. */
  removed: number;
}

/**
 * Removes every bound blob for which `keep` says no: a reasoning item loses its `encrypted_content`
 * (and is dropped when nothing else is left in it: no summary, no content), a compaction item is
 * dropped whole. Returns null when nothing had to go, so the caller sends the original bytes.
 * `body` itself is never modified.
 */
export function stripCiphertext(
  body: Record<string, unknown>,
  keep: (blob: string) => boolean,
): StripResult | null {
  const input = body['input'];
  if (!Array.isArray(input)) return null;
  let output: unknown[] | null = null;
  let removed = 0;
  for (let index = 0; index < input.length; index += 1) {
    const item: unknown = input[index];
    const replacement = strippedItem(item, keep);
    if (replacement === item) {
      output?.push(item);
      continue;
    }
    removed += 1;
    output ??= input.slice(0, index);
    if (replacement !== null) output.push(replacement);
  }
  return output === null ? null : { body: { ...body, input: output }, removed };
}

/** The item as it may be sent: itself, a copy without its blob, or null (drop it). */
function strippedItem(item: unknown, keep: (blob: string) => boolean): unknown {
  if (item === null || typeof item !== 'object') return item;
  const record = item as Record<string, unknown>;
  const type = record['type'];
  if (type !== reasoningType && type !== compactionType) return item;
  const blob = record['encrypted_content'];
  if (blob === undefined || blob === null) return item;
  // A blob that is not even a string cannot be anyone's: never send it on.
  if (typeof blob === 'string' && keep(blob)) return item;
  if (type === compactionType) return null;
  const { encrypted_content: _dropped, ...rest } = record;
  const summary = rest['summary'];
  const content = rest['content'];
  const hasSummary = Array.isArray(summary) && summary.length > 0;
  const hasContent = Array.isArray(content) && content.length > 0;
  return hasSummary || hasContent ? rest : null;
}

/** Strips every bound blob: the body of the one retry after an `invalid_encrypted_content`. */
export function stripAllCiphertext(body: Record<string, unknown>): StripResult | null {
  return stripCiphertext(body, () => false);
}

const rejectionMessage = /^The encrypted content\b[\s\S]*\bcould not be verified\b/;

/**
 * True for the upstream's 400 that refuses replayed ciphertext, in either real shape:
 * `code: "invalid_encrypted_content"`, or `code: null` with only the message ("The encrypted
 * content … could not be verified. Reason: …"). Anything else (another 400, non-JSON) is false.
 */
export function isCiphertextRejection(status: number, text: string): boolean {
  if (status !== 400) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'invalid_encrypted_content') return true;
  return (code === null || code === undefined) && typeof message === 'string'
    ? rejectionMessage.test(message)
    : false;
}

const blobKey = Buffer.from('"encrypted_content"');
const doneEvent = Buffer.from('response.output_item.done');

/**
 * Watches an SSE answer as it streams past and reports every bound blob the upstream minted
 * (`response.output_item.done` with a reasoning or compaction item). Feed it the decoded bytes
 * chunk by chunk; it only parses the few lines that carry `encrypted_content`.
 */
export function createCiphertextTap(onBlob: (blob: string) => void): (chunk: Buffer) => void {
  /** The unfinished last line of earlier chunks. */
  let carry: Buffer | null = null;
  const maxCarry = 16 * 1024 * 1024;
  return (chunk) => {
    const end = chunk.lastIndexOf(10);
    if (end === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
      if (carry.length > maxCarry) carry = null;
      return;
    }
    const complete = carry
      ? Buffer.concat([carry, chunk.subarray(0, end)])
      : chunk.subarray(0, end);
    carry = end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : null;
    // Only the lines holding a blob are decoded, not the whole chunk: most of a stream is text.
    let found = complete.indexOf(blobKey);
    while (found !== -1) {
      const start = complete.lastIndexOf(10, found) + 1;
      const newline = complete.indexOf(10, found);
      const lineEnd = newline === -1 ? complete.length : newline;
      found = newline === -1 ? -1 : complete.indexOf(blobKey, newline);
      const done = complete.indexOf(doneEvent, start);
      if (done === -1 || done > lineEnd) continue;
      const line = complete.toString('utf8', start, lineEnd);
      if (!line.startsWith('data:')) continue;
      let event: { type?: unknown; item?: { type?: unknown; encrypted_content?: unknown } };
      try {
        event = JSON.parse(line.slice(5)) as typeof event;
      } catch {
        continue;
      }
      if (event.type !== 'response.output_item.done') continue;
      const item = event.item;
      if (item?.type !== reasoningType && item?.type !== compactionType) continue;
      if (typeof item.encrypted_content === 'string') onBlob(item.encrypted_content);
    }
  };
}
