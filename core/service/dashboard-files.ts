/**
 * Whether there is a dashboard to show: the one rule every surface asks (`codex-lab serve`'s
 * line, the identity answer `codex-lab dashboard` reads, and the router's own `/ui/` answer), so
 * none of them hands out a link to a page that is not there (docs/security.md, "Web dashboard").
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The command that builds the dashboard's files (`dist/renderer`) in a checkout. */
export const dashboardBuildCommand = 'npm run build:renderer';

/** The sentence said where the dashboard is asked for but not built. */
export const dashboardNotBuiltText = `The dashboard is not built: run ${dashboardBuildCommand}.`;

/**
 * True when `rendererDir` holds a built dashboard (its `index.html`). Asked at each use, not once
 * at start: a dashboard built while the router runs is served without a restart.
 */
export function dashboardBuilt(rendererDir: string | null): boolean {
  return rendererDir !== null && existsSync(join(rendererDir, 'index.html'));
}

/**
 * Where this package's dashboard is built (`dist/renderer` beside its `package.json`, from the
 * source or the bundled location), built or not yet; null when no package root is found.
 */
export function findRendererDir(): string | null {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    if (existsSync(join(folder, 'package.json'))) return join(folder, 'dist', 'renderer');
    folder = dirname(folder);
  }
  return null;
}
