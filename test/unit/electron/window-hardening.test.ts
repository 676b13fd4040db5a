/**
 * Audit of the hardening bullets (docs/design.md section 6) on the real main-process modules, with
 * `electron` replaced by a recording stand-in (the binary is not installed here): the windows'
 * webPreferences, the navigation guards as installed on every webContents, the page's CSP.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const recorded = vi.hoisted(() => ({
  appListeners: new Map<string, (...args: unknown[]) => void>(),
  windows: [] as Array<{ options: Record<string, unknown>; loaded: string[] }>,
  /** What each window's session answers to permission requests and checks. */
  permissions: [] as Array<{ request: boolean | null; check: boolean | null }>,
  opened: [] as string[],
  nextId: 100,
}));

vi.mock('electron', () => {
  class BrowserWindow {
    readonly options: Record<string, unknown>;
    readonly loaded: string[] = [];
    readonly webContents: { id: number; session: unknown };
    constructor(options: Record<string, unknown>) {
      this.options = options;
      const answers = { request: null as boolean | null, check: null as boolean | null };
      recorded.permissions.push(answers);
      this.webContents = {
        id: recorded.nextId++,
        session: {
          setPermissionRequestHandler(
            handler: (
              contents: unknown,
              permission: string,
              callback: (ok: boolean) => void,
            ) => void,
          ) {
            handler({}, 'media', (ok) => (answers.request = ok));
          },
          setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean) {
            answers.check = handler({}, 'notifications');
          },
        },
      };
      recorded.windows.push(this);
    }
    once(): void {}
    on(): void {}
    isDestroyed(): boolean {
      return false;
    }
    async loadFile(path: string): Promise<void> {
      this.loaded.push(path);
    }
    async loadURL(url: string): Promise<void> {
      this.loaded.push(url);
    }
  }
  return {
    app: {
      on: (event: string, listener: (...args: unknown[]) => void) =>
        recorded.appListeners.set(event, listener),
    },
    shell: {
      openExternal: async (url: string) => {
        recorded.opened.push(url);
      },
    },
    BrowserWindow,
  };
});

const { hardenedWebPreferences, installNavigationGuards } =
  await import('../../../electron/security/harden.ts');
const { showSettingsWindow } = await import('../../../electron/windows/settings-window.ts');
const { openSignInPopup } = await import('../../../electron/windows/sign-in-popup.ts');

const pageUrl = 'file:///opt/codex-lab/resources/app.asar/dist/renderer/index.html';

beforeEach(() => {
  recorded.windows.length = 0;
  recorded.permissions.length = 0;
  recorded.opened.length = 0;
});

describe('webPreferences', () => {
  it('is isolated, sandboxed and without Node in every window', () => {
    expect(hardenedWebPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
    const preferences = { get: () => ({ width: 900, height: 700 }), set: () => undefined };
    showSettingsWindow(
      { indexHtml: '/app/dist/renderer/index.html', preload: '/app/dist/electron/preload.cjs' },
      preferences as never,
      () => undefined,
    );
    openSignInPopup(
      { id: 'login-1', authorizeUrl: 'https://auth.openai.com/oauth/authorize?x=1' } as never,
      null,
    );
    const [settings, popup] = recorded.windows;
    for (const window of [settings!, popup!]) {
      expect(window.options['webPreferences']).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
      });
    }
    expect((settings!.options['webPreferences'] as { preload: string }).preload).toMatch(
      /preload\.cjs$/,
    );
    // The sign-in page is someone else's: it gets no preload, so no window.codexLab.
    expect(popup!.options['webPreferences']).not.toHaveProperty('preload');
    expect(popup!.loaded).toEqual(['https://auth.openai.com/oauth/authorize?x=1']);
    // The sign-in page's session grants nothing: no camera, microphone, notifications…
    expect(recorded.permissions[1]).toEqual({ request: false, check: false });
  });
});

describe('installNavigationGuards', () => {
  type Handler = (event: { url: string; preventDefault(): void }) => void;
  function contents(id: number) {
    const handlers = new Map<string, Handler>();
    let openHandler: ((details: { url: string }) => { action: string }) | undefined;
    return {
      id,
      on: (event: string, handler: Handler) => handlers.set(event, handler),
      setWindowOpenHandler: (handler: typeof openHandler) => {
        openHandler = handler;
      },
      navigate(event: string, url: string): boolean {
        let prevented = false;
        handlers.get(event)!({ url, preventDefault: () => (prevented = true) });
        return prevented;
      },
      open: (url: string) => openHandler!({ url }),
      attachWebview(): boolean {
        let prevented = false;
        handlers.get('will-attach-webview')!({
          url: '',
          preventDefault: () => (prevented = true),
        });
        return prevented;
      },
    };
  }

  it('blocks foreign navigation, denies every new window and opens only allow-listed https', () => {
    const blocked: string[] = [];
    installNavigationGuards(
      (id) => (id === 2 ? 'sign-in' : 'settings'),
      { appPageUrl: pageUrl, issuerOrigin: 'https://auth.openai.com' },
      () => [],
      (id, kind, url) => blocked.push(`${id} ${kind} ${url}`),
    );
    const created = recorded.appListeners.get('web-contents-created')!;
    const settings = contents(1);
    const popup = contents(2);
    created({}, settings);
    created({}, popup);

    expect(settings.navigate('will-navigate', `${pageUrl}#x`)).toBe(false);
    expect(settings.navigate('will-navigate', 'https://evil.test/')).toBe(true);
    expect(settings.navigate('will-redirect', 'https://auth.openai.com/')).toBe(true);
    expect(popup.navigate('will-navigate', 'https://auth.openai.com/oauth/authorize')).toBe(false);
    expect(popup.navigate('will-redirect', 'http://localhost:1455/auth/callback?code=c')).toBe(
      false,
    );
    expect(popup.navigate('will-navigate', 'https://evil.test/phish')).toBe(true);
    expect(popup.navigate('will-redirect', 'https://accounts.google.com/o/oauth2')).toBe(true);
    // Every refusal is reported with the window's kind, so the popup can explain its own.
    expect(blocked).toEqual([
      `1 settings https://evil.test/`,
      `1 settings https://auth.openai.com/`,
      `2 sign-in https://evil.test/phish`,
      `2 sign-in https://accounts.google.com/o/oauth2`,
    ]);
    expect(settings.attachWebview()).toBe(true);

    expect(settings.open('https://chatgpt.com/codex')).toEqual({ action: 'deny' });
    expect(settings.open('file:///bin/sh')).toEqual({ action: 'deny' });
    expect(settings.open('http://chatgpt.com/')).toEqual({ action: 'deny' });
    expect(recorded.opened).toEqual(['https://chatgpt.com/codex']);
  });
});

describe('Content-Security-Policy of the page', () => {
  it('allows only our own scripts and styles, no inline or eval, no plugins', () => {
    const html = readFileSync('renderer/index.html', 'utf8');
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(csp).toBeDefined();
    const directives = new Map(
      csp!.split(';').map((part) => {
        const [name, ...values] = part.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });
});
