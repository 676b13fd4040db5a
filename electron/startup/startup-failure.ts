/**
 * The dialog for a desktop start-up that failed (pure: tested under Node). An expected failure —
 * a malformed `CODEX_LAB_*` setting, the router port held by another program — is its own one
 * sentence; anything else says where the log is, never a stack trace.
 */
import { isLabError } from '../../core/errors.ts';

/** Title and text of the start-up failure dialog. */
export function startupFailureDialog(error: unknown): { title: string; content: string } {
  const title = 'Codex Lab could not start';
  if (isLabError(error)) return { title, content: error.message };
  return {
    title,
    content:
      'Codex Lab hit an unexpected error while starting; the details are in its log file (Preferences… → Open logs folder, or the app logs folder of your system).',
  };
}
