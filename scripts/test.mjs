// `npm test`: every suite (unit, integration, browser, e2e) in two Vitest runs side by side, then the
// plain total `N passed, N failed, N skipped` over both as the last line. Runs inside a private D-Bus session with an
// unlocked gnome-keyring when one is available, so the keyring tests use a real keychain.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { laneTotals } from './test-totals.mjs';
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

// Two lanes at once, each its own Vitest run: the suites that drive outside programs one file at a
// time (e2e runs the real Codex CLI, browser runs Chromium) beside the unit and integration suites.
// Vitest runs a run's files on one worker on a two-core machine (its default is one fewer than the
// cores), so one run would take the sum of every file's time; two lanes take the longer lane's.
// Arguments (a project, a file) mean one run, as `vitest run` would do it.
const lanes =
  process.argv.length > 2
    ? [{ report: '.vitest-report.json', args: process.argv.slice(2) }]
    : [
        { report: '.vitest-report.json', args: ['--project', 'unit', '--project', 'integration'] },
        {
          report: '.vitest-report-drivers.json',
          args: ['--project', 'e2e', '--project', 'browser'],
        },
      ];

/** Runs one lane's Vitest, its output relayed line by line so two lanes' lines never mix. */
function runLane(lane) {
  rmSync(lane.report, { force: true });
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile=${lane.report}`,
        ...lane.args,
      ],
      { stdio: lanes.length === 1 ? 'inherit' : ['ignore', 'pipe', 'pipe'] },
    );
    for (const [from, to] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      if (!from) continue;
      let pending = '';
      from.setEncoding('utf8');
      from.on('data', (text) => {
        const cut = (pending + text).lastIndexOf('\n');
        if (cut === -1) {
          pending += text;
          return;
        }
        to.write((pending + text).slice(0, cut + 1));
        pending = (pending + text).slice(cut + 1);
      });
      from.on('end', () => pending && to.write(`${pending}\n`));
    }
    child.on('close', (status) => resolve(status ?? 1));
  });
}

// Each lane's global setup builds the CLI bundle; the build writes each file through a rename, so
// two builds at once, or a CLI started during one, never see a half-written file.
const statuses = await Promise.all(lanes.map(runLane));

const { passed, failed, skipped } = laneTotals(
  lanes.map((lane, index) => ({
    report: existsSync(lane.report) ? readFileSync(lane.report, 'utf8') : null,
    status: statuses[index],
  })),
);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
// exitCode, not exit(): the lanes' last relayed lines may still be on their way to a pipe.
process.exitCode = statuses.some((status) => status !== 0) || failed > 0 ? 1 : 0;
