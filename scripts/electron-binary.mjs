// Finds Electron's binary without the `electron` package's own code, which in Electron 45
// downloads the binary from the internet when it is missing. Only two places count:
// ELECTRON_OVERRIDE_DIST_PATH (the folder holding the executable, as the electron package reads
// it) and a node_modules/electron/dist that an install already filled. Used by `npm start` (run
// directly: without a binary it points to the headless router instead) and by the desktop smoke
// test (test/browser/electron-smoke.test.ts), which skips where this finds nothing.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the executable sits inside an Electron dist folder, per OS (as Electron lays it out). */
export function electronExecutable(platform) {
  if (platform === 'darwin') return join('Electron.app', 'Contents', 'MacOS', 'Electron');
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Electron binary to run and where it came from, or null when none is installed. */
export function findElectronBinary({ env, root, platform }) {
  const executable = electronExecutable(platform);
  const override = env['ELECTRON_OVERRIDE_DIST_PATH'];
  if (override) {
    const path = join(override, executable);
    return isExecutable(path) ? { path, source: 'ELECTRON_OVERRIDE_DIST_PATH' } : null;
  }
  const installed = join(root, 'node_modules', 'electron', 'dist', executable);
  return isExecutable(installed) ? { path: installed, source: 'node_modules/electron/dist' } : null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = findElectronBinary({
    env: process.env,
    root: join(import.meta.dirname, '..'),
    platform: process.platform,
  });
  if (found === null) {
    console.error(
      "Electron's binary is not installed here, so the tray app cannot start: run the headless router with its web dashboard instead (npm run serve), or install Electron's binary with node node_modules/electron/install.js where GitHub can be reached.",
    );
    process.exit(1);
  }
}
