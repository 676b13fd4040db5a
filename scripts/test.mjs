// `npm test`: every suite (unit, integration, browser, e2e) in one Vitest run, then the plain total
// `N passed, N failed, N skipped` as the last line. Runs inside a private D-Bus session with an
// unlocked gnome-keyring when one is available, so the keyring tests use a real keychain.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isSupportedNode, nodeGuardSentence } from './node-runtime.mjs';

// On an old Node, Vitest cannot even load: one sentence instead of a false "0 passed, 1 failed".
if (!isSupportedNode(process.version)) {
  console.error(nodeGuardSentence(process.version));
  process.exit(1);
}

const which = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

if (
  !process.env.DBUS_SESSION_BUS_ADDRESS &&
  !process.env.CODEX_LAB_TEST_NO_DBUS &&
  which('dbus-run-session')
) {
  const inner = which('gnome-keyring-daemon')
    ? 'printf codex-lab-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; '
    : '';
  const args = process.argv
    .slice(2)
    .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const result = spawnSync(
    'dbus-run-session',
    [
      '--',
      'sh',
      '-c',
      `${inner}CODEX_LAB_TEST_NO_DBUS=1 exec "${process.execPath}" scripts/test.mjs ${args}`,
    ],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}

const report = '.vitest-report.json';
rmSync(report, { force: true });
const vitest = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

let passed = 0;
let failed;
let skipped = 0;
if (existsSync(report)) {
  const results = JSON.parse(readFileSync(report, 'utf8'));
  passed = results.numPassedTests ?? 0;
  failed = results.numFailedTests ?? 0;
  skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  // A file that failed to load has no tests to count: count it as a failure so it cannot hide.
  for (const file of results.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed = 1;
}
const exitCode = vitest.status !== 0 || failed > 0 ? 1 : 0;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(exitCode);
