/**
 * A SIGINT, SIGTERM or SIGHUP (Ctrl-C in the terminal that started the app, a logout, a service
 * manager's stop) quits the app the way its Quit item does: through the quit sequence, which
 * finishes the token refreshes in flight first; a later one while it quits changes nothing. With
 * no listener of the app's own, such a signal would take its default action (or reach a
 * signal-exit hook alone, which raises it again): the app would end mid-refresh, with the
 * issuer's rotated tokens never written (docs/security.md).
 */

/** The signals that quit the app. */
export const quitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Has `quit` (the app's `app.quit`) answer every one of `quitSignals` sent to `target`. */
export function quitOnSignals(
  target: { on(signal: (typeof quitSignals)[number], listener: () => void): unknown },
  quit: () => void,
): void {
  for (const signal of quitSignals) target.on(signal, () => quit());
}
