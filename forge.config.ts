import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerDMG } from '@electron-forge/maker-dmg';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

/**
 * Packaging with Electron Forge alone: the app is already bundled by esbuild (main, preload) and
 * Vite (renderer) before `electron-forge make`, so Forge only packs, flips fuses and makes
 * installers. Sources, tests and docs stay out of the asar.
 */
const config: ForgeConfig = {
  packagerConfig: {
    name: 'Codex Lab',
    executableName: 'codex-lab-desktop',
    appBundleId: 'dev.codex-lab.desktop',
    // No extension: the packager picks build/icon.icns on macOS and build/icon.ico on Windows.
    icon: 'build/icon',
    asar: true,
    // Only what runs: the built bundles, the icons, package.json and production node_modules.
    ignore: [
      /^\/(core|electron|renderer|test|bench|docs|scripts|coverage|out)(\/|$)/,
      /^\/\.[^/]+/,
      /^\/(tsconfig.*|vitest\.config\.ts|eslint\.config\.js|forge\.config\.ts)$/,
      /\.map$/,
    ],
  },
  rebuildConfig: {},
  makers: [
    new MakerSquirrel({ name: 'codex_lab', setupIcon: 'build/icon.ico' }),
    new MakerZIP({}, ['darwin', 'linux']),
    // The DMG volume icon must be an .icns (appdmg rejects a PNG there).
    new MakerDMG({ format: 'ULFO', icon: 'build/icon.icns' }),
    new MakerDeb({
      options: {
        name: 'codex-lab',
        productName: 'Codex Lab',
        categories: ['Development', 'Utility'],
        icon: 'build/icon.png',
        homepage: 'https://github.com/codex-lab/codex-lab',
      },
    }),
  ],
  plugins: [
    // Flipped before signing (Electron security checklist item 19): the signed binary cannot be
    // reused as a plain Node, inspected, or pointed at code outside our checked asar.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
