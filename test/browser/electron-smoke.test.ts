/**
 * Starts the real desktop app through Playwright's `_electron` where the Electron binary exists.
 * Here (no binary could be downloaded) it says so plainly and is reported as skipped: it never
 * claims the tray or the window ran.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildRenderer } from '../helpers/ui-browser.ts';

function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path !== 'string') return null;
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (!binary) console.log('skipped: the Electron binary is not installed on this machine');

describe('desktop app (Electron)', () => {
  it.skipIf(!binary)('opens the settings window with window.codexLab and no Node', async () => {
    execFileSync(process.execPath, ['scripts/build-electron.mjs'], { stdio: 'inherit' });
    buildRenderer();
    const home = mkdtempSync(join(tmpdir(), 'codex-lab-electron-'));
    const app = await _electron.launch({
      executablePath: binary!,
      args: ['.', '--show-settings', '--no-sandbox'],
      env: {
        ...process.env,
        CODEX_LAB_HOME: home,
        CODEX_LAB_PORT: '0',
        CODEX_LAB_CALLBACK_PORT: '0',
      },
    });
    try {
      const window = await app.firstWindow();
      await window.getByRole('heading', { name: 'Codex Lab' }).waitFor();
      expect(
        await window.evaluate(
          () => typeof (globalThis as { codexLab?: { getState?: unknown } }).codexLab?.getState,
        ),
      ).toBe('function');
      expect(
        await window.evaluate(() => typeof (globalThis as { require?: unknown }).require),
      ).toBe('undefined');
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
