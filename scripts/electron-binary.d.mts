/** Types for `electron-binary.mjs`. */

/** A found binary and where it came from. */
export interface ElectronBinary {
  path: string;
  source: 'ELECTRON_OVERRIDE_DIST_PATH' | 'node_modules/electron/dist';
}

/** Where the executable sits inside an Electron dist folder, per OS. */
export function electronExecutable(platform: NodeJS.Platform): string;

/** The Electron binary to run, or null when none is installed here. Never downloads. */
export function findElectronBinary(search: {
  /** Only `ELECTRON_OVERRIDE_DIST_PATH` is read. */
  env: Readonly<Record<string, string | undefined>>;
  /** The repository root (holding node_modules). */
  root: string;
  platform: NodeJS.Platform;
}): ElectronBinary | null;
