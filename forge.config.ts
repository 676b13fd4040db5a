import type { ForgeConfig } from '@electron-forge/shared-types';
import { execFileSync } from 'node:child_process';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerDMG } from '@electron-forge/maker-dmg';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { squirrelPackageName } from './electron/startup/squirrel-events.ts';

/**
 * The builds that run before packaging, in order: the settings page (Vite), then main and preload
 * (esbuild). Run by the `generateAssets` hook, so `npm run make` and `electron-forge package` work
 * from a clean checkout with no `dist/` yet.
 */
export const buildSteps: readonly (readonly string[])[] = [
  ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts'],
  ['scripts/build-electron.mjs'],
];

/** Runs the build steps with this Node (no shell, so it behaves the same on every OS). */
export function runBuildSteps(run: (args: readonly string[]) => void = runNode): void {
  for (const step of buildSteps) run(step);
}

function runNode(args: readonly string[]): void {
  // Forge may run with NODE_ENV unset or `development`; users get React's production build.
  execFileSync(process.execPath, [...args], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Code-signing settings read from the CI's secrets; each part is skipped when its secrets are absent. */
export interface SigningOptions {
  osxSign?: { identity: string };
  osxNotarize?: { appleId: string; appleIdPassword: string; teamId: string };
  windows?: { certificateFile: string; certificatePassword: string };
}

/**
 * Reads the signing secrets: `APPLE_SIGNING_IDENTITY` signs the macOS app; with `APPLE_ID`,
 * `APPLE_APP_SPECIFIC_PASSWORD` and `APPLE_TEAM_ID` as well, it is notarized too;
 * `WINDOWS_CERTIFICATE_FILE` (+ `WINDOWS_CERTIFICATE_PASSWORD`) signs the Squirrel installer.
 * An empty value counts as absent, so a fork's CI without secrets builds unsigned installers.
 */
export function signingOptions(env: Record<string, string | undefined>): SigningOptions {
  const value = (name: string) => (env[name] ? env[name] : undefined);
  const options: SigningOptions = {};
  const identity = value('APPLE_SIGNING_IDENTITY');
  if (identity) {
    options.osxSign = { identity };
    const appleId = value('APPLE_ID');
    const appleIdPassword = value('APPLE_APP_SPECIFIC_PASSWORD');
    const teamId = value('APPLE_TEAM_ID');
    if (appleId && appleIdPassword && teamId) {
      options.osxNotarize = { appleId, appleIdPassword, teamId };
    }
  }
  const certificateFile = value('WINDOWS_CERTIFICATE_FILE');
  if (certificateFile) {
    options.windows = {
      certificateFile,
      certificatePassword: value('WINDOWS_CERTIFICATE_PASSWORD') ?? '',
    };
  }
  return options;
}

const signing = signingOptions(process.env);

/**
 * Packaging with Electron Forge alone: the `generateAssets` hook bundles the app first (esbuild
 * for main and preload, Vite for the renderer), so Forge only packs, flips fuses and makes
 * installers. Sources, tests, docs and every bundled package stay out of the asar.
 */
const config: ForgeConfig = {
  packagerConfig: {
    name: 'Codex Lab',
    executableName: 'codex-lab-desktop',
    appBundleId: 'dev.codex-lab.desktop',
    // No extension: the packager picks build/icon.icns on macOS and build/icon.ico on Windows.
    icon: 'build/icon',
    // Native modules cannot be loaded from inside an archive.
    asar: { unpack: '**/*.node' },
    // A menu-bar app on macOS: no Dock icon, no app menu bar of its own.
    extendInfo: { LSUIElement: true },
    ...(signing.osxSign ? { osxSign: signing.osxSign } : {}),
    ...(signing.osxNotarize ? { osxNotarize: signing.osxNotarize } : {}),
    // Only what runs: the built bundles, the icons and package.json. Main is one bundle (see
    // scripts/build-electron.mjs), so node_modules contributes only the native addons (the
    // keyring; bufferutil with node-gyp-build, which finds its compiled file); React and the other
    // renderer packages are already inside the page's bundle.
    ignore: [
      /^\/(core|electron|renderer|test|bench|docs|scripts|coverage|out|bin)(\/|$)/,
      /^\/\.[^/]+/,
      /^\/(tsconfig.*|vitest\.config\.ts|eslint\.config\.js|forge\.config\.ts)$/,
      /^\/dist\/(?!electron(\/|$)|renderer(\/|$))/,
      /^\/node_modules\/(?!(@napi-rs|bufferutil|node-gyp-build)(\/|$))/,
      /\.map$/,
      /^\/dist\/electron\/main\.meta\.json$/,
    ],
  },
  rebuildConfig: {},
  hooks: {
    generateAssets: async () => runBuildSteps(),
  },
  makers: [
    new MakerSquirrel({
      name: squirrelPackageName,
      setupIcon: 'build/icon.ico',
      ...(signing.windows ?? {}),
    }),
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
