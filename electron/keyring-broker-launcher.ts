/**
 * The keychain broker (core/profiles/keyring-broker.cjs) as an Electron utility process: the
 * packaged app cannot run its own binary as Node (the RunAsNode fuse is off), so the Node child
 * process `createSystemKeyring` starts elsewhere is started this way here. A utility process ends
 * with the app.
 */
import { utilityProcess } from 'electron';
import {
  keyringBrokerScript,
  type KeyringBrokerAnswer,
  type KeyringBrokerLauncher,
} from '../core/profiles/keyring.ts';

/** Starts the keychain broker in a utility process. */
export const electronKeyringBroker: KeyringBrokerLauncher = () => {
  const child = utilityProcess.fork(keyringBrokerScript(), [], {
    serviceName: 'Codex Lab keychain',
    // A Rust panic's text is of no use in the app's output.
    stdio: 'ignore',
  });
  let exitListener: ((reason: string) => void) | undefined;
  let gone = false;
  child.once('exit', (code) => {
    gone = true;
    exitListener?.(`the keychain helper exited (${code})`);
  });
  return {
    send: (request) => {
      if (!gone) child.postMessage(request);
    },
    onMessage: (listener) =>
      child.on('message', (answer: unknown) => listener(answer as KeyringBrokerAnswer)),
    onExit: (listener) => {
      exitListener = listener;
    },
    kill: () => {
      // Not child.kill(): that is SIGTERM, which the broker ignores (a Ctrl-C or a stop of the
      // process group must not cut a token write short), and a hung native call must not be
      // waited for.
      if (child.pid === undefined) child.kill();
      else process.kill(child.pid, 'SIGKILL');
    },
  };
};
