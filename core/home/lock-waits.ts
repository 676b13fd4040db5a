/**
 * How long each kind of caller waits for a cross-process lock before it gives up with
 * `lock_busy`: one place, so whoever waits for such a caller's answer (a command waiting for the
 * router's) waits longer than the caller may wait itself, and hears its real answer.
 */

/** A lock taken without a wait of its own (`withLock`'s default). */
export const defaultLockWaitMs = 15_000;

/**
 * A profile's refresh lock, as rename, remove and a sign-in's save take it: the change must wait
 * for a refresh in flight to write its tokens rather than drop them; past this it is refused.
 */
export const refreshLockWaitMs = 45_000;

/**
 * The longest a rename, remove or a sign-in's save may wait for its locks (the profile's refresh
 * lock, then the registry lock) before it is refused.
 */
export const profileChangeWaitMs = refreshLockWaitMs + defaultLockWaitMs;
