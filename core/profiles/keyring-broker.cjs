// The keychain broker: a small child process that makes the native keychain calls for
// `createSystemKeyring` (core/profiles/keyring.ts) and answers over the IPC channel.
//
// Why a child: a native keychain call can block a libuv pool thread for ever (a Secret Service
// unlock prompt whose daemon died), and four such calls stop every file operation of the process
// that made them; a panic in the Rust library aborts that process. Here either costs this child
// only: the parent kills it when a call passes its deadline and starts a new one on the next call.
//
// Plain CommonJS with no imports but the keychain module, so the same file runs unbundled under
// Node and beside the CLI and desktop bundles (the build scripts copy it there).
//
// Request  { id, op: 'get' | 'set' | 'delete', service, account, value?, timeoutMs }
// (the service name comes with each request: keyring.ts's `keyringService` is the one copy)
// Answer   { id, ok: true, value } | { id, ok: false, message }
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script run as its own process */
'use strict';

// The keychain module; a test passes a stand-in's path (argv[2]) that hangs or aborts on cue.
const keyringModule = process.argv[2] || '@napi-rs/keyring';

// A parent port (Electron's utility process) or Node's IPC channel.
const parentPort = process.parentPort;
const send = (message) => {
  if (parentPort) parentPort.postMessage(message);
  else if (process.connected) process.send(message);
};

// The broker never outlives its parent: when the channel closes (the parent exited or was
// killed) it ends at once. SIGKILL, not process.exit: exit joins the libuv pool threads, and a
// thread stuck in a native call would keep this process alive.
const die = () => process.kill(process.pid, 'SIGKILL');
if (!parentPort) {
  process.on('disconnect', die);
  if (!process.connected) die();
}

// Ctrl-C, a systemd stop or a `kill` of the process group reaches this child too, while its parent
// may be finishing a token refresh whose rotated tokens this child is writing: a signal must not
// cut that write short. Its life is tied to the channel (above) and its parent's SIGKILL instead.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);

let loaded;
const load = () => (loaded ??= require(keyringModule));

async function answer(request) {
  const { AsyncEntry } = load();
  const entry = new AsyncEntry(request.service, request.account, {
    linux: { store: 'secret-service' },
  });
  const signal = AbortSignal.timeout(request.timeoutMs);
  if (request.op === 'get') return (await entry.getPassword(signal)) ?? null;
  if (request.op === 'set') {
    await entry.setPassword(request.value, signal);
    return null;
  }
  await entry.deleteCredential(signal);
  return null;
}

const onRequest = (request) => {
  answer(request).then(
    (value) => send({ id: request.id, ok: true, value }),
    (error) => {
      // The native error text names the backend failure only, never the stored value.
      const message = error instanceof Error ? error.message : String(error);
      send({ id: request.id, ok: false, message: message.split('\n')[0] });
    },
  );
};

if (parentPort) parentPort.on('message', (event) => onRequest(event.data));
else process.on('message', onRequest);
