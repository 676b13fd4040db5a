/**
 * A stand-in for Electron's `utilityProcess`, for running electron/keyring-broker-launcher.ts
 * under plain Node: `fork` starts the script as a Node child process over an IPC channel and shows
 * it as a utility process does (`pid`, `postMessage`, a `message` event with the data, an `exit`
 * event with a code, `kill()` sending SIGTERM). `extraArgs` follow the script's own arguments
 * (the stand-in keychain module).
 */
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';

/** What the launcher uses of a utility process. */
export interface UtilityProcessStandIn extends EventEmitter {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
}

/** A `utilityProcess` whose `fork` appends `extraArgs`. */
export function utilityProcessStandIn(extraArgs: string[]): {
  fork(script: string, args?: string[]): UtilityProcessStandIn;
} {
  return {
    fork(script, args = []) {
      const child = fork(script, [...args, ...extraArgs], { stdio: 'ignore' });
      const emitter = new EventEmitter();
      child.on('message', (message) => emitter.emit('message', message));
      // A utility process reports a code only, whatever ended it.
      child.on('exit', (code) => emitter.emit('exit', code ?? 1));
      return Object.assign(emitter, {
        pid: child.pid,
        postMessage: (message: unknown) => {
          if (child.connected) child.send(message as object);
        },
        // Electron: "Terminates the process gracefully. On POSIX, it uses SIGTERM".
        kill: () => child.kill('SIGTERM'),
      });
    },
  };
}
