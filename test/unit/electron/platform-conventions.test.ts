import { describe, expect, it } from 'vitest';
import {
  applicationMenuPlan,
  shouldHideDock,
  trayClickBehavior,
  type MenuTemplateItem,
} from '../../../electron/platform/platform-conventions.ts';
import { firstMissingFile, missingFileDialog } from '../../../electron/startup/install-check.ts';
import { blockedSignInMessage, providerName } from '../../../electron/windows/sign-in-blocked.ts';
import config from '../../../forge.config.ts';

const flatten = (items: MenuTemplateItem[]): MenuTemplateItem[] =>
  items.flatMap((item) => [item, ...flatten(item.submenu ?? [])]);

describe('application menu', () => {
  it('packaged Windows and Linux builds have no menu (no DevTools); development keeps the default', () => {
    expect(applicationMenuPlan('win32', true)).toEqual({ kind: 'none' });
    expect(applicationMenuPlan('linux', true)).toEqual({ kind: 'none' });
    expect(applicationMenuPlan('linux', false)).toEqual({ kind: 'default' });
  });

  it('macOS: Cmd+Q closes the settings window, Edit shortcuts work, DevTools only in development', () => {
    const packaged = applicationMenuPlan('darwin', true);
    expect(packaged.kind).toBe('template');
    const items = flatten(packaged.kind === 'template' ? packaged.template : []);
    const commandQ = items.filter((item) => item.accelerator === 'Command+Q');
    expect(commandQ).toEqual([{ label: 'Close Window', role: 'close', accelerator: 'Command+Q' }]);
    expect(items.some((item) => item.role === 'quit')).toBe(false);
    expect(items.some((item) => item.role === 'editMenu')).toBe(true);
    expect(items.some((item) => item.role === 'toggleDevTools')).toBe(false);
    const development = applicationMenuPlan('darwin', false);
    expect(
      flatten(development.kind === 'template' ? development.template : []).some(
        (item) => item.role === 'toggleDevTools',
      ),
    ).toBe(true);
  });
});

describe('tray and Dock', () => {
  it('a left click opens the menu on Windows; macOS and Linux show it natively', () => {
    expect(trayClickBehavior('win32')).toBe('open-menu');
    expect(trayClickBehavior('darwin')).toBe('native');
    expect(trayClickBehavior('linux')).toBe('native');
  });

  it('no Dock icon on macOS: LSUIElement when packaged, dock.hide() in development', () => {
    expect(config.packagerConfig?.extendInfo).toMatchObject({ LSUIElement: true });
    expect(shouldHideDock('darwin', false)).toBe(true);
    expect(shouldHideDock('darwin', true)).toBe(false);
    expect(shouldHideDock('win32', false)).toBe(false);
  });
});

describe('a broken install', () => {
  it('names the first missing file in one sentence', () => {
    const present = new Set(['/app/dist/renderer/index.html']);
    const missing = firstMissingFile(
      ['/app/dist/renderer/index.html', '/app/build/tray.png', '/app/dist/electron/preload.cjs'],
      (path) => present.has(path),
    );
    expect(missing).toBe('/app/build/tray.png');
    expect(missingFileDialog(missing!)).toEqual({
      title: 'Codex Lab cannot start',
      content:
        'A file of Codex Lab is missing: /app/build/tray.png. Reinstall Codex Lab to repair it.',
    });
    expect(firstMissingFile(['/app/dist/renderer/index.html'], (path) => present.has(path))).toBe(
      null,
    );
  });
});

describe('sign-in popup: a refused page', () => {
  it('names Google, Microsoft and Apple, and the host of anything else', () => {
    expect(providerName('https://accounts.google.com/o/oauth2/v2/auth?x')).toBe('Google');
    expect(providerName('https://login.microsoftonline.com/common/oauth2')).toBe('Microsoft');
    expect(providerName('https://appleid.apple.com/auth/authorize')).toBe('Apple');
    expect(providerName('https://sso.example-corp.test/saml')).toBe('sso.example-corp.test');
    expect(providerName('https://notgoogle.com/')).toBe('notgoogle.com');
    expect(providerName('not a url')).toBe('another site');
  });

  it('explains why and offers the system browser first', () => {
    const google = blockedSignInMessage('https://accounts.google.com/o/oauth2/v2/auth');
    expect(google.message).toBe('Signing in with Google works only in your browser.');
    expect(google.buttons).toEqual(['Open in browser', 'Stay here']);
    const sso = blockedSignInMessage('https://sso.example-corp.test/saml');
    expect(sso.message).toBe(
      "The sign-in window shows only OpenAI's own pages, so it did not open sso.example-corp.test.",
    );
    expect(sso.detail).toContain('keeps waiting');
  });
});
