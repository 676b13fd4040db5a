// `npm run bench`: runs every benchmark in bench/ in turn (each prints its own ratios).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const only = process.argv[2];
for (const file of readdirSync('bench')
  .filter((name) => /\.(mjs|ts)$/.test(name))
  .sort()) {
  if (only && !file.includes(only)) continue;
  if (file.startsWith('_') || file.includes('helper')) continue;
  console.log(`\n# ${file}`);
  const result = spawnSync(process.execPath, [`bench/${file}`], { stdio: 'inherit' });
  if (result.status !== 0) process.exitCode = 1;
}
