/**
 * A process that uses the keychain through its broker, for the test that the broker never
 * outlives it: `node keyring-broker-parent.ts FAKE_MODULE MODE`. It prints the broker's pid, then
 * with MODE `hang` waits on a call that never returns (the test kills it), with MODE `exit`
 * just ends: an idle broker must not keep it alive.
 */
import { createSystemKeyring, nodeKeyringBroker } from '../../core/profiles/keyring.ts';

const [keyringModule, mode] = process.argv.slice(2);
if (!keyringModule || !mode) throw new Error('usage: FAKE_MODULE hang|exit');
const keyring = createSystemKeyring({ launch: nodeKeyringBroker({ keyringModule }) });
process.stdout.write(`${await keyring.get('pid')}\n`);
if (mode === 'hang') await keyring.get('hang');
