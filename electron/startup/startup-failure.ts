/**
 * A desktop start-up that failed (pure: tested under Node). The error is written to the app's log
 * file first, scrubbed as every log line is, so the dialog can send the user there. An expected
 * failure — a malformed `CODEX_LAB_*` setting, the router port held by another program — is its
 * own one sentence; anything else names the log file's folder itself: the app quits after the
 * dialog, so no menu of it can be reached to open the folder, and never a stack trace.
 */
import type { DestinationStream } from 'pino';
import { isLabError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { scrubSecrets } from '../../core/redact.ts';

/** Title and text of the start-up failure dialog. */
export interface StartupFailureText {
  title: string;
  content: string;
}

/**
 * The dialog for `error`. `logsFolder` is where the log file with the details is, or null when no
 * log could be written (then the sentence says so rather than send the user to an empty folder).
 */
export function startupFailureDialog(
  error: unknown,
  logsFolder: string | null,
): StartupFailureText {
  const title = 'Codex Lab could not start';
  if (isLabError(error)) return { title, content: error.message };
  return {
    title,
    content:
      logsFolder === null
        ? 'Codex Lab hit an unexpected error while starting, and could not write its log file either: start it again, and if it fails the same way, report it.'
        : `Codex Lab hit an unexpected error while starting; the details are in its log file (main.1.log or the highest-numbered main.N.log) in ${logsFolder}.`,
  };
}

/** The app's log file as start-up failure needs it (what `openFileLog` gives). */
export interface StartupLog {
  destination: DestinationStream;
  folder: string;
  /** False once the file could not be opened or written. */
  writable(): boolean;
}

/**
 * Writes `error` to `log` (credentials and `secrets` — the router token once the host knows it —
 * scrubbed, as every line of the file logger is; the stack too, since a bug is found from it) and returns the dialog for it, which names the log's folder
 * when the line could be written. `log` null: no log could be opened.
 */
export function recordStartupFailure(
  error: unknown,
  log: StartupLog | null,
  secrets: readonly string[] = [],
): StartupFailureText {
  if (log !== null) {
    const logger = createLogger({
      destination: log.destination,
      format: 'json',
      secrets: () => secrets,
    });
    const stack =
      error instanceof Error && error.stack ? scrubSecrets(error.stack, secrets) : undefined;
    logger.error(
      {
        err: error instanceof Error ? error : new Error(scrubSecrets(String(error), secrets)),
        ...(stack ? { stack } : {}),
      },
      'Codex Lab could not start',
    );
  }
  return startupFailureDialog(error, log !== null && log.writable() ? log.folder : null);
}
