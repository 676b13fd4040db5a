// `npm start` checks this first: without Electron's binary (npm ci ran with
// ELECTRON_SKIP_BINARY_DOWNLOAD, or GitHub could not be reached) the tray app cannot start, and
// the headless router with its web dashboard is the way to run Codex Lab instead.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const folder = join(import.meta.dirname, '..', 'node_modules', 'electron');
const pathFile = join(folder, 'path.txt');
const binary = existsSync(pathFile)
  ? join(folder, 'dist', readFileSync(pathFile, 'utf8').trim())
  : null;
if (binary === null || !existsSync(binary)) {
  console.error(
    "Electron's binary is not installed here, so the tray app cannot start: run the headless router with its web dashboard instead (npm run serve), or install Electron's binary with node node_modules/electron/install.js where GitHub can be reached.",
  );
  process.exit(1);
}
