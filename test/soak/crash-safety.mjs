// Runs the crash-safety test (test/integration/crash-safety.test.ts) at full count: 1,000 random
// SIGKILLs of the real commands and routers by default, or `node test/soak/crash-safety.mjs 5000`
// (`CODEX_LAB_CRASH_LANES` homes side by side, 4 by default). Prints the figures line.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const trials = process.argv[2] ?? '1000';
const root = resolve(import.meta.dirname, '..', '..');
const result = spawnSync(
  'npx',
  ['vitest', 'run', '--project', 'integration', 'test/integration/crash-safety.test.ts'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CODEX_LAB_CRASH_TRIALS: trials } },
);
process.exit(result.status ?? 1);
