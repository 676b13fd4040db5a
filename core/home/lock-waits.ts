/**
 * How long each kind of caller waits for a cross-process lock before it gives up with
 * `lock_timeout`: one place, so whoever waits for such a caller's answer (a command waiting for the
 * router's) waits longer than the caller may wait itself, and hears its real answer.
 */

/** A lock taken without a wait of its own (`withLock`'s default). */
export const defaultLockWaitMs = 15_000;

/**
 * How long a token refresh's request to the issuer may take (`TokenManager`'s `answerTimeoutMs`):
 * the longest a refresh holds its profile's refresh lock, give or take reading and writing the
 * tokens around it.
 */
export const refreshAnswerTimeoutMs = 2 * 60_000;

/**
 * How long a write keeps trying to rename its temp file over a file another program holds open
 * on Windows (a virus scan, an indexer, a backup, an editor: `writeFileAtomically`), in all.
 */
export const fileWriteRetryMs = 3_000;

/**
 * The same for a write of tokens (a refresh's rotated ones, or the journal record that keeps them
 * when that write fails): longer, since the spent token's successor exists nowhere else. The
 * refresh lock is held meanwhile; its waiters wait for this too (`refreshLockWaitMs`).
 */
export const tokenWriteRetryMs = 10_000;

/**
 * A profile's refresh lock, as rename, remove and a sign-in's save take it: the change must wait
 * for a refresh in flight to write its tokens rather than drop them, so it waits as long as a
 * refresh may hold the lock (its answer's limit, the write of its tokens and of the journal
 * record kept when that write fails, each retried while another program holds the file open,
 * plus the reads around them); past this it is refused (a sign-in is kept, not dropped:
 * `ProfileStore.saveSignIn`).
 */
export const refreshLockWaitMs = refreshAnswerTimeoutMs + 2 * tokenWriteRetryMs + defaultLockWaitMs;

/**
 * The longest a rename, remove or a sign-in's save may wait for its locks (the profile's refresh
 * lock, then the registry lock) before it is refused.
 */
export const profileChangeWaitMs = refreshLockWaitMs + defaultLockWaitMs;
