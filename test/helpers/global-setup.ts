/** Builds the CLI bundle once before any suite spawns `bin/codex-lab.mjs`. */
import { execFileSync } from 'node:child_process';

/** Vitest global setup. */
export function setup(): void {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
}
