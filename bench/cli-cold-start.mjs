// CLI cold start: wall time of `codex-lab list` on a home with 20 profiles (quota known, as after a
// usage read), against `node -e 0` measured in the same rounds (target: at most 3x), and, with
// `--before DIR`, against the CLI of another checkout (an older commit with its CLI built there),
// round by round. Each round runs `node -e 0`, then the two CLIs in alternating order, so machine
// noise hits both sides alike; the figures are min / median / max of the per-round ratios.
//
//   node bench/cli-cold-start.mjs [--rounds N] [--before DIR] [--router] [--no-build] [--json]
//
// `--router` measures with this checkout's router (`codex-lab serve`) running for the home, as
// users meet it while the desktop app or `serve` runs; without it, no router runs. `--no-build`
// skips building this checkout's CLI (`node scripts/build-cli.mjs`). To compare with an older
// commit:
//
//   git worktree add --detach ../before COMMIT && ln -s "$PWD/node_modules" ../before/
//   (cd ../before && node scripts/build-cli.mjs)
//   node bench/cli-cold-start.mjs --rounds 31 --before ../before
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { percentile } from './helpers/measure.mjs';
import { benchOptions } from './helpers/options.ts';
import { runCli, seedBenchLab, startRouter } from './helpers/router.mjs';

const flags = benchOptions(
  'node bench/cli-cold-start.mjs [--rounds N] [--before DIR] [--router] [--no-build] [--json]',
  { rounds: 21, before: null, router: false, 'no-build': false, json: false },
);
const rounds = flags.rounds;
const root = resolve(import.meta.dirname, '..');
const before = flags.before === null ? undefined : resolve(flags.before);
if (before !== undefined && !existsSync(join(before, 'dist/cli/cli.mjs'))) {
  throw new Error(`${before} has no built CLI: run node scripts/build-cli.mjs there first.`);
}
if (!flags['no-build']) {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'inherit' });
}

const fake = await startFakeChatGpt({
  accounts: Array.from({ length: 20 }, (_, index) => ({ email: `user${index}@example.com` })),
});
const lab = await seedBenchLab(
  fake,
  'codex-lab-bench-',
  Array.from({ length: 20 }, (_, index) => ({
    name: `user${index}`,
    email: `user${index}@example.com`,
  })),
);
// Quota windows on disk, as after the first usage poll: `list` shows and summarises them.
await runCli(lab.env, ['usage', '--refresh']);
const router = flags.router ? await startRouter(lab.env) : undefined;

/** Wall time of one `node ARGS` run in ms; the run must succeed. */
async function time(cwd, args) {
  const start = process.hrtime.bigint();
  // Asynchronous, so the fake upstream in this process keeps answering a running router.
  const child = spawn(process.execPath, args, {
    cwd,
    env: lab.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((done) => child.once('exit', done));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (code !== 0)
    throw new Error(`node ${args.join(' ')} in ${cwd} exited with ${code}: ${stderr}`);
  return elapsed;
}

const variants = [
  { name: 'after', cwd: root },
  ...(before === undefined ? [] : [{ name: 'before', cwd: before }]),
];
const load = { start: loadavg() };
const samples = { node: [], after: [], before: [] };
try {
  // Warm the file-system and compile caches once for each side.
  await time(root, ['-e', '0']);
  for (const variant of variants) await time(variant.cwd, ['bin/codex-lab.mjs', 'list']);
  for (let round = 0; round < rounds; round += 1) {
    samples.node.push(await time(root, ['-e', '0']));
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      samples[variant.name].push(await time(variant.cwd, ['bin/codex-lab.mjs', 'list']));
    }
  }
} finally {
  load.end = loadavg();
  await router?.close();
  await fake.close();
  rmSync(lab.root, { recursive: true, force: true });
}

const spread = (values) => ({
  min: Math.min(...values),
  median: percentile(values, 50),
  max: Math.max(...values),
});
const perRound = (top, bottom) => top.map((value, index) => value / bottom[index]);
const result = {
  rounds,
  router: flags.router,
  loadAverage: { start: load.start, end: load.end },
  ms: Object.fromEntries(
    Object.entries(samples)
      .filter(([, values]) => values.length > 0)
      .map(([name, values]) => [name, spread(values)]),
  ),
  ratios: {
    afterOverNode: spread(perRound(samples.after, samples.node)),
    ...(before === undefined
      ? {}
      : {
          afterOverBefore: spread(perRound(samples.after, samples.before)),
          beforeOverNode: spread(perRound(samples.before, samples.node)),
        }),
  },
};
if (flags.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const row = ({ min, median, max }, digits) =>
    [min, median, max].map((value) => value.toFixed(digits)).join(' / ');
  const loads = (values) => values.map((value) => value.toFixed(2)).join(' ');
  console.log(
    `codex-lab list, 20 profiles, ${rounds} rounds, ${flags.router ? 'a router running' : 'no router running'}`,
  );
  console.log(`load average at start ${loads(load.start)}, at end ${loads(load.end)}`);
  for (const [name, values] of Object.entries(result.ms)) {
    const label = name === 'node' ? 'node -e 0' : before === undefined ? 'list' : `list ${name}`;
    console.log(`${label.padEnd(22)} ms min / median / max: ${row(values, 1)}`);
  }
  for (const [name, values] of Object.entries(result.ratios)) {
    console.log(`${name.padEnd(22)} per round min / median / max: ${row(values, 2)}`);
  }
  const median = result.ratios.afterOverNode.median;
  console.log(
    `list / node -e 0 median ${median.toFixed(2)}x (target <= 3x) ${median <= 3 ? 'OK' : 'OVER TARGET'}`,
  );
}
