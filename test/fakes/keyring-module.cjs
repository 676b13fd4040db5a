// A stand-in for `@napi-rs/keyring` that the keychain broker loads in tests
// (`nodeKeyringBroker({ keyringModule })`), to misbehave on cue by account name:
// - `hang`: never answers, holding a libuv pool thread as a stuck native call does (it opens the
//   FIFO named by CODEX_LAB_FAKE_KEYRING_FIFO, which no one writes; without it, a bare promise);
// - `abort`: aborts the process, as a panic in the Rust keyring library does;
// - `pid`: answers the broker's process id;
// - `gate`: answers what is written to the FIFO CODEX_LAB_FAKE_KEYRING_GATE names, once its writer
//   closes it (a call the test holds in flight, then lets finish);
// - while the file CODEX_LAB_FAKE_KEYRING_LATE names exists, a set reports an abort and yet
//   writes later (after this process's next set), as a native write whose AbortSignal fired after
//   it had started does;
// - `refused`: every call is refused, as a keychain that denies this one entry does;
// - while the file CODEX_LAB_FAKE_KEYRING_HOLD names exists, a call on any other account writes
//   this process's id into that file and waits until the file is gone (a call the test holds in
//   flight in a broker it can tell, and kill);
// - anything else: an in-memory keychain, locked (every call refused, as a Secret Service whose
//   unlock prompt was dismissed) while the file CODEX_LAB_FAKE_KEYRING_LOCKED names exists.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module the broker requires */
'use strict';
const { existsSync, writeFileSync } = require('node:fs');
const { open, readFile } = require('node:fs/promises');

const entries = new Map();
/** Writes reported as aborted that still land: [key, value]. */
const lateWrites = [];

class AsyncEntry {
  constructor(service, account) {
    this.key = `${service}\u0000${account}`;
    this.account = account;
  }

  async #misbehave() {
    const lock = process.env.CODEX_LAB_FAKE_KEYRING_LOCKED;
    if (lock && existsSync(lock)) {
      throw new Error(
        "Couldn't access platform storage: Secret Service: unlock prompt was dismissed",
      );
    }
    if (this.account === 'refused') {
      throw new Error(
        "Couldn't access platform storage: Secret Service: access to the item was denied",
      );
    }
    if (this.account === 'abort') process.abort();
    if (this.account === 'hang') {
      const fifo = process.env.CODEX_LAB_FAKE_KEYRING_FIFO;
      if (fifo) await open(fifo, 'r');
      await new Promise(() => {});
    }
    const hold = process.env.CODEX_LAB_FAKE_KEYRING_HOLD;
    if (hold && !['pid', 'gate'].includes(this.account) && existsSync(hold)) {
      writeFileSync(hold, String(process.pid));
      while (existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async getPassword() {
    await this.#misbehave();
    if (this.account === 'pid') return String(process.pid);
    if (this.account === 'gate') {
      return readFile(process.env.CODEX_LAB_FAKE_KEYRING_GATE, 'utf8');
    }
    return entries.get(this.key) ?? null;
  }

  async setPassword(value) {
    await this.#misbehave();
    const late = process.env.CODEX_LAB_FAKE_KEYRING_LATE;
    if (late && existsSync(late)) {
      lateWrites.push([this.key, value]);
      throw new Error('The operation was aborted');
    }
    entries.set(this.key, value);
    for (const [key, stale] of lateWrites.splice(0)) entries.set(key, stale);
  }

  async deleteCredential() {
    await this.#misbehave();
    return entries.delete(this.key);
  }
}

module.exports = { AsyncEntry };
