/**
 * Audit of the packaging bullets: the Forge config as Forge loads it (fuses, makers, icons), and
 * the icon containers `build/make-icons.mjs` writes, parsed byte by byte.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { FuseV1Options } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import config, { buildSteps, runBuildSteps, signingOptions } from '../../../forge.config.ts';

/** Width and height from a PNG's IHDR, or null when `data` is not a PNG. */
function pngSize(data: Buffer): { width: number; height: number } | null {
  if (!data.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) return null;
  if (data.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

describe('forge.config.ts', () => {
  it('flips the fuses: RunAsNode off, OnlyLoadAppFromAsar and ASAR integrity on', () => {
    const fuses = (config.plugins ?? []).find(
      (plugin) => (plugin as { name?: string }).name === 'fuses',
    ) as { fusesConfig?: Record<number, unknown> } | undefined;
    expect(fuses, 'FusesPlugin').toBeDefined();
    const flags = fuses!.fusesConfig!;
    expect(flags[FuseV1Options.RunAsNode]).toBe(false);
    expect(flags[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(flags[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(flags[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(flags[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    // In the asar, except native modules, which cannot be loaded from inside an archive.
    expect(config.packagerConfig?.asar).toEqual({ unpack: '**/*.node' });
  });

  it('packs only the bundles, icons and package.json: no sources, no React, no bundled packages', () => {
    const ignore = config.packagerConfig?.ignore as RegExp[];
    const ignored = (path: string) => ignore.some((pattern) => pattern.test(path));
    for (const kept of [
      '/package.json',
      '/dist/electron/main.cjs',
      '/dist/electron/preload.cjs',
      '/dist/electron/keyring-broker.cjs',
      '/dist/renderer/index.html',
      '/dist/renderer/assets/index-abc.js',
      '/build/tray.png',
      '/node_modules',
      '/node_modules/@napi-rs/keyring/index.js',
      '/node_modules/@napi-rs/keyring-linux-x64-gnu/keyring.linux-x64-gnu.node',
      '/node_modules/bufferutil/index.js',
      '/node_modules/bufferutil/prebuilds/linux-x64/bufferutil.node',
      '/node_modules/node-gyp-build/index.js',
    ]) {
      expect(ignored(kept), kept).toBe(false);
    }
    for (const dropped of [
      '/node_modules/react/index.js',
      '/node_modules/react-dom/client.js',
      '/node_modules/zustand/index.js',
      '/node_modules/electron-store/index.js',
      '/node_modules/pino/pino.js',
      '/dist/cli/cli.mjs',
      '/dist/electron/main.cjs.map',
      '/dist/electron/main.meta.json',
      '/electron/main.ts',
      '/core/log.ts',
      '/bin/codex-lab.mjs',
      '/.github/workflows/desktop.yml',
    ]) {
      expect(ignored(dropped), dropped).toBe(true);
    }
  });

  it('builds the renderer, then main and preload, before packaging (the generateAssets hook)', async () => {
    expect(buildSteps.map((step) => step[0])).toEqual([
      'node_modules/vite/bin/vite.js',
      'scripts/build-electron.mjs',
    ]);
    for (const [script] of buildSteps) expect(existsSync(script!), script).toBe(true);
    const ran: string[] = [];
    runBuildSteps((args) => ran.push(args.join(' ')));
    expect(ran).toEqual([
      'node_modules/vite/bin/vite.js build --config renderer/vite.config.ts',
      'scripts/build-electron.mjs',
    ]);
    expect(typeof config.hooks?.generateAssets).toBe('function');
  });

  it('signs and notarizes only when the secrets are present', () => {
    expect(signingOptions({})).toEqual({});
    expect(signingOptions({ APPLE_SIGNING_IDENTITY: '', WINDOWS_CERTIFICATE_FILE: '' })).toEqual(
      {},
    );
    expect(signingOptions({ APPLE_SIGNING_IDENTITY: 'Developer ID Application: A (T)' })).toEqual({
      osxSign: { identity: 'Developer ID Application: A (T)' },
    });
    expect(
      signingOptions({
        APPLE_SIGNING_IDENTITY: 'Developer ID Application: A (T)',
        APPLE_ID: 'a@example.test',
        APPLE_APP_SPECIFIC_PASSWORD: 'pw',
        APPLE_TEAM_ID: 'T',
        WINDOWS_CERTIFICATE_FILE: 'cert.pfx',
        WINDOWS_CERTIFICATE_PASSWORD: 'secret',
      }),
    ).toEqual({
      osxSign: { identity: 'Developer ID Application: A (T)' },
      osxNotarize: { appleId: 'a@example.test', appleIdPassword: 'pw', teamId: 'T' },
      windows: { certificateFile: 'cert.pfx', certificatePassword: 'secret' },
    });
  });
});

describe('package.json', () => {
  it('names the app, its author (Squirrel refuses an empty one) and points main at the bundle', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>;
    expect(manifest['productName']).toBe('Codex Lab');
    expect(manifest['author']).toBeTruthy();
    expect(String(manifest['description']).length).toBeGreaterThan(20);
    expect(manifest['main']).toBe('dist/electron/main.cjs');
  });
});

describe('main bundle', () => {
  it('is CommonJS and loads nothing from node_modules but electron and the native addons', () => {
    execFileSync(process.execPath, ['scripts/build-electron.mjs'], { stdio: 'inherit' });
    const meta = JSON.parse(readFileSync('dist/electron/main.meta.json', 'utf8')) as {
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
    const external = meta.outputs['dist/electron/main.cjs']!.imports.filter(
      (entry) => entry.external && !builtins.has(entry.path),
    ).map((entry) => entry.path);
    expect(external).toContain('electron');
    // The keyring and bufferutil are native (.node files): they stay outside, unpacked beside
    // the asar.
    expect(external).toContain('bufferutil');
    for (const path of external) {
      expect(['electron', '@napi-rs/keyring', 'bufferutil']).toContain(path);
    }
    const code = readFileSync('dist/electron/main.cjs', 'utf8');
    // No ES module syntax left for Electron's loader to resolve out of the asar.
    expect(code).not.toMatch(/^\s*import\s.*from\s/m);
    expect(code).not.toMatch(/^\s*export\s/m);
    // A real esbuild run: a few seconds on a loaded machine.
  }, 60_000);

  it('has the makers for Linux, macOS and Windows', () => {
    const makers = (config.makers ?? []).map((maker) => {
      const each = maker as unknown as {
        name: string;
        platforms?: string[] | null;
        defaultPlatforms: string[];
      };
      return [each.name, [...(each.platforms ?? each.defaultPlatforms)].sort().join(',')];
    });
    expect(Object.fromEntries(makers)).toEqual({
      squirrel: 'win32',
      zip: 'darwin,linux',
      dmg: 'darwin,mas',
      deb: 'linux',
    });
  });

  it('points every icon option at a file that exists', () => {
    const base = config.packagerConfig?.icon as string;
    // The packager appends the platform's extension to an extension-less icon path.
    for (const extension of ['.icns', '.ico', '.png']) {
      expect(existsSync(`${base}${extension}`), `${base}${extension}`).toBe(true);
    }
    const configOf = (name: string) =>
      (
        (config.makers ?? []).find(
          (maker) => (maker as unknown as { name: string }).name === name,
        ) as unknown as {
          configOrConfigFetcher: Record<string, unknown>;
        }
      ).configOrConfigFetcher;
    expect(configOf('squirrel')['setupIcon']).toBe('build/icon.ico');
    expect(configOf('dmg')['icon']).toBe('build/icon.icns');
    const deb = configOf('deb')['options'] as { icon: string };
    for (const path of [
      configOf('squirrel')['setupIcon'],
      configOf('dmg')['icon'],
      deb.icon,
    ] as string[]) {
      expect(existsSync(path), path).toBe(true);
    }
  });
});

describe('icons', () => {
  it('icon.ico is an ICO of PNGs from 16 to 256 px, each entry matching its image', () => {
    const data = readFileSync('build/icon.ico');
    expect(data.readUInt16LE(0)).toBe(0);
    expect(data.readUInt16LE(2)).toBe(1);
    const count = data.readUInt16LE(4);
    const sizes: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const at = 6 + 16 * index;
      const declared = data.readUInt8(at) || 256;
      const length = data.readUInt32LE(at + 8);
      const offset = data.readUInt32LE(at + 12);
      expect(offset + length).toBeLessThanOrEqual(data.length);
      const image = pngSize(data.subarray(offset, offset + length));
      expect(image).toEqual({ width: declared, height: declared });
      expect(data.readUInt16LE(at + 6)).toBe(32);
      sizes.push(declared);
    }
    expect(sizes).toContain(16);
    expect(sizes).toContain(32);
    expect(sizes).toContain(256);
  });

  it('icon.icns holds PNG entries ic07–ic10 (128 to 1024 px) and a correct total length', () => {
    const data = readFileSync('build/icon.icns');
    expect(data.toString('ascii', 0, 4)).toBe('icns');
    expect(data.readUInt32BE(4)).toBe(data.length);
    const entries: Record<string, number> = {};
    for (let at = 8; at < data.length;) {
      const type = data.toString('ascii', at, at + 4);
      const length = data.readUInt32BE(at + 4);
      expect(length).toBeGreaterThan(8);
      const image = pngSize(data.subarray(at + 8, at + length));
      expect(image, type).not.toBeNull();
      expect(image!.width).toBe(image!.height);
      entries[type] = image!.width;
      at += length;
    }
    expect(entries).toEqual({ ic07: 128, ic08: 256, ic09: 512, ic10: 1024 });
  });
});
