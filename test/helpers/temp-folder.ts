/**
 * A temporary folder that lives exactly as long as the test that made it, so no run leaves
 * `codex-lab-*` folders behind in the OS temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * Makes a fresh empty folder `<os temp>/<prefix>XXXXXX` and removes it, with everything in it,
 * when the current test finishes, passed or failed. Call it inside a test (not in a hook or at
 * module level; a folder for the whole file is made in `beforeAll` and removed in `afterAll`).
 * Cleanups registered after this call run before the removal (Vitest runs them last-in,
 * first-out), so whatever still writes into the folder can be stopped first.
 */
export function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}
