// A recording stand-in for the `electron` module, for running the built main process
// (dist/electron/main.cjs) under plain Node where Electron's binary cannot be installed:
// `node --require test/helpers/electron-standin.cjs dist/electron/main.cjs`. It answers the calls
// main makes, prints each thing the app does as one JSON line on stdout, and, once the tray and
// the IPC handlers are up, plays the user: reads the state and the preferences over IPC, turns
// launch at login on, then quits from the tray. Folders come from ELECTRON_STANDIN_APP_ROOT (the
// app) and ELECTRON_STANDIN_DATA (what app.getPath returns under). With ELECTRON_STANDIN_DRIVE=stdin
// the test plays the user instead, one JSON command a line on stdin (see `drive` below).
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload for `node --require` */
'use strict';
const Module = require('node:module');
const { EventEmitter } = require('node:events');
const path = require('node:path');

const appRoot = process.env.ELECTRON_STANDIN_APP_ROOT;
const data = process.env.ELECTRON_STANDIN_DATA;
const emit = (event, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

let nextId = 1;
const appEvents = new EventEmitter();
const handlers = new Map();
let trayMenu = null;
// The menu object the tray holds: the stand-in reports its opening and closing as Electron does.
let trayMenuObject = null;

class WebContents extends EventEmitter {
  constructor() {
    super();
    this.id = nextId++;
    this.session = { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} };
  }
  isDestroyed() {
    return false;
  }
  isLoading() {
    return false;
  }
  send(channel, value) {
    // States are large and frequent: their channel and profile names are enough.
    emit(
      'push',
      channel.endsWith(':state-changed')
        ? { channel, profiles: value.profiles.map((profile) => profile.name) }
        : { channel, value },
    );
  }
  setWindowOpenHandler() {}
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.webContents = new WebContents();
    emit('window', { title: options.title });
    appEvents.emit('web-contents-created', {}, this.webContents);
  }
  isDestroyed() {
    return false;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  show() {}
  focus() {}
  getBounds() {
    return { x: 0, y: 0, width: 980, height: 760 };
  }
  close() {
    this.emit('close');
    this.emit('closed');
  }
  async loadFile(file) {
    emit('load-file', { file: path.relative(appRoot, file) });
  }
  async loadURL(url) {
    emit('load-url', { url });
  }
}

class Tray extends EventEmitter {
  constructor() {
    super();
    emit('tray');
  }
  setToolTip(tooltip) {
    emit('tooltip', { tooltip });
  }
  setTitle() {}
  setContextMenu(menu) {
    trayMenu = menu.template;
    trayMenuObject = menu;
    emit('tray-menu', {
      labels: menu.template.map((item) => item.label ?? '—'),
      items: menu.template.map(({ id, label, checked, enabled }) => ({
        id,
        label,
        checked,
        enabled,
      })),
    });
  }
  popUpContextMenu() {}
  destroy() {
    emit('tray-destroyed');
  }
}

function quit() {
  emit('quit');
  const event = {
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
  appEvents.emit('before-quit', event);
  if (!event.prevented) {
    emit('exit');
    process.exit(0);
  }
}

const app = Object.assign(appEvents, {
  isPackaged: false,
  requestSingleInstanceLock() {
    emit('lock');
    return true;
  },
  async whenReady() {
    emit('ready');
  },
  getAppPath: () => appRoot,
  getPath: (name) => path.join(data, name),
  getVersion: () => '0.0.0',
  getName: () => 'Codex Lab',
  quit,
  setAppUserModelId() {},
  setLoginItemSettings(settings) {
    emit('login-item', { settings });
  },
  getLoginItemSettings: () => ({ openAtLogin: false, wasOpenedAtLogin: false }),
  dock: { hide() {} },
});

const electron = {
  app,
  BrowserWindow,
  Tray,
  dialog: {
    showErrorBox(title, content) {
      emit('error-box', { title, content });
    },
    async showMessageBox(options) {
      emit('message-box', {
        message: options.message,
        ...(options.detail ? { detail: options.detail } : {}),
      });
      return { response: 1 };
    },
  },
  Menu: {
    setApplicationMenu(menu) {
      emit('application-menu', { none: menu === null });
    },
    buildFromTemplate: (template) => Object.assign(new EventEmitter(), { template }),
  },
  Notification: Object.assign(
    class {
      on() {}
      show() {}
    },
    { isSupported: () => false },
  ),
  powerMonitor: { on() {} },
  session: {
    defaultSession: {
      // The system's proxy settings, as Chromium resolves them: none on a test machine.
      resolveProxy(url) {
        // ELECTRON_STANDIN_FAIL_START: an unexpected failure during start-up (not a LabError),
        // thrown at once rather than as a rejected promise main would catch.
        if (process.env.ELECTRON_STANDIN_FAIL_START) {
          throw new TypeError('the session stand-in failed');
        }
        emit('resolve-proxy', { url });
        return Promise.resolve('DIRECT');
      },
    },
  },
  shell: {
    async openExternal(url) {
      emit('open-external', { url });
    },
    async openPath() {
      return '';
    },
  },
  ipcMain: {
    handle: (channel, handler) => handlers.set(channel, handler),
    removeHandler: (channel) => handlers.delete(channel),
    on() {},
  },
  nativeImage: { createFromPath: () => ({ setTemplateImage() {} }) },
};

const load = Module._load;
Module._load = function loadWithStandIn(request, ...rest) {
  return request === 'electron' ? electron : load.call(this, request, ...rest);
};

// Plays the user once the app is up: the settings window is the first webContents (id 1).
const page = `file://${path.join(appRoot, 'dist', 'renderer', 'index.html')}`;
const fromSettings = { sender: { id: 1 }, senderFrame: { url: page, parent: null } };
async function playUser() {
  const state = await handlers.get('codex-lab:get-state')(fromSettings, undefined);
  emit('state', { router: state.router, profiles: state.profiles.length });
  const preferences = await handlers.get('codex-lab:get-preferences')(fromSettings, undefined);
  emit('preferences', { preferences });
  const changed = await handlers.get('codex-lab:set-preferences')(fromSettings, {
    launchAtLogin: true,
  });
  emit('preferences-changed', { result: changed });
  trayMenu.find((item) => item.label === 'Quit Codex Lab').click();
}
/**
 * The test plays the user: `{"open":true}` opens the tray menu (its items are what later clicks
 * hit, as a user clicks in the menu on screen even if the state changed meanwhile; the menu
 * reports `menu-will-show`, and `menu-will-close` when the click lands),
 * `{"click":"use:work"}` clicks an item by id (in the open menu, else the current one; submenus
 * too), `{"invoke":"codex-lab:start-login","payload":{…}}` sends what the settings page would and
 * prints the answer, `{"quit":true}` quits from the tray.
 */
function drive() {
  let open = null;
  let openMenu = null;
  const find = (items, id) => {
    for (const item of items ?? []) {
      if (item.id === id) return item;
      const inner = find(item.submenu, id);
      if (inner) return inner;
    }
    return null;
  };
  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buffer += chunk;
    let end = buffer.indexOf('\n');
    while (end !== -1) {
      const command = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
      if (command.open) {
        open = trayMenu;
        openMenu = trayMenuObject;
        openMenu.emit('menu-will-show');
      }
      if (command.click) {
        const item = find(open ?? trayMenu, command.click);
        open = null;
        // The menu closes as the click lands, then the click runs.
        openMenu?.emit('menu-will-close');
        openMenu = null;
        emit('clicked', { id: command.click, found: item !== null });
        item?.click();
      }
      if (command.invoke) {
        Promise.resolve(handlers.get(command.invoke)(fromSettings, command.payload)).then(
          (answer) => emit('answer', { channel: command.invoke, answer }),
          (error) => emit('answer', { channel: command.invoke, error: String(error) }),
        );
      }
      if (command.quit) trayMenu.find((item) => item.label === 'Quit Codex Lab').click();
    }
  });
}

const waitForApp = setInterval(() => {
  if (process.env.ELECTRON_STANDIN_DRIVE === 'stdin') {
    clearInterval(waitForApp);
    drive();
    return;
  }
  if (trayMenu && handlers.has('codex-lab:get-preferences')) {
    clearInterval(waitForApp);
    playUser().catch((error) => {
      emit('failure', { message: String(error) });
      process.exit(1);
    });
  }
}, 10);
waitForApp.unref();
