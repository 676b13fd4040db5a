/**
 * A process that uses the keychain through its broker, for the test that the broker never
 * outlives it: `node keyring-broker-parent.ts FAKE_MODULE MODE`. It prints the broker's pid, then
 * with MODE `hang` waits on a call that never returns (the test kills it), with MODE `exit`
 * just ends: an idle broker must not keep it alive; with MODE `signals` it outlives SIGINT and
 * SIGTERM (as a command that finishes a refresh first does), prints `calling`, and prints the
 * outcome of a call the test holds in flight (the `gate` account) while it signals the group.
 */
import { createSystemKeyring, nodeKeyringBroker } from '../../core/profiles/keyring.ts';

const [keyringModule, mode] = process.argv.slice(2);
if (!keyringModule || !mode) throw new Error('usage: FAKE_MODULE hang|exit|signals');
const keyring = createSystemKeyring({ launch: nodeKeyringBroker({ keyringModule }) });
process.stdout.write(`${await keyring.get('pid')}\n`);
if (mode === 'hang') await keyring.get('hang');
if (mode === 'signals') {
  process.on('SIGINT', () => process.stdout.write('SIGINT\n'));
  process.on('SIGTERM', () => process.stdout.write('SIGTERM\n'));
  process.stdout.write('calling\n');
  const outcome = await keyring.get('gate').then(
    (value) => `ok ${value}`,
    (error: unknown) => `failed ${(error as Error).message}`,
  );
  process.stdout.write(`${outcome}\n`);
}
