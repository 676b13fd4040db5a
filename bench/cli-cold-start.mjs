// CLI cold start: median wall time of `node bin/codex-lab.mjs list` on a home with 20 profiles,
// as a ratio against `node -e 0` measured in the same run (target: at most 3x).
// Usage: node bench/cli-cold-start.mjs [RUNS]   (default 21)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 21);
const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'inherit' });

// Node strips the types of the store and its imports, so the home is built by the real code.
const { labPaths } = await import('../core/home/paths.ts');
const { ProfileStore } = await import('../core/profiles/store.ts');
const { makeAuth } = await import('../test/helpers/profile-auth.ts');

const home = mkdtempSync(join(tmpdir(), 'codex-lab-bench-'));
const store = new ProfileStore({ paths: labPaths(home) });
for (let index = 0; index < 20; index += 1) {
  await store.saveSignIn({
    auth: makeAuth({ email: `user${index}@example.com`, accountId: `acct-${index}` }),
    requestedName: null,
  });
}

const env = { ...process.env, CODEX_LAB_HOME: home };
function time(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return elapsed;
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Warm the file-system cache once, then alternate so that machine noise hits both sides alike.
time(['-e', '0']);
time(['bin/codex-lab.mjs', 'list']);
const baseline = [];
const list = [];
for (let run = 0; run < runs; run += 1) {
  baseline.push(time(['-e', '0']));
  list.push(time(['bin/codex-lab.mjs', 'list']));
}
rmSync(home, { recursive: true, force: true });

const ratio = median(list) / median(baseline);
console.log(`node -e 0:             median ${median(baseline).toFixed(1)} ms over ${runs} runs`);
console.log(`codex-lab list (20):   median ${median(list).toFixed(1)} ms over ${runs} runs`);
console.log(`ratio: ${ratio.toFixed(2)}x (target <= 3x) ${ratio <= 3 ? 'OK' : 'OVER TARGET'}`);
