/**
 * A broken install (a file missing from the app bundle) must not end as an invisible process or
 * Electron's generic error box: main checks the files it cannot run without before it starts
 * anything, and shows one dialog naming the first missing one, then quits. Pure for unit tests.
 */

/** The dialog for a missing file. */
export interface MissingFileDialog {
  title: string;
  content: string;
}

/** The first path in `required` that does not exist, or null when all do. */
export function firstMissingFile(
  required: readonly string[],
  exists: (path: string) => boolean,
): string | null {
  return required.find((path) => !exists(path)) ?? null;
}

/** One clear sentence naming the file, and what to do. */
export function missingFileDialog(path: string): MissingFileDialog {
  return {
    title: 'Codex Lab cannot start',
    content: `A file of Codex Lab is missing: ${path}. Reinstall Codex Lab to repair it.`,
  };
}
