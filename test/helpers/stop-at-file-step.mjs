// Preload (`node --import`) for lock tests: stops this process (SIGSTOP, as Ctrl-Z does) right
// after its Nth call into `node:fs/promises` once a test arms it (`globalThis.armFileSteps()`),
// N being CODEX_LAB_TEST_STOP_AT_STEP. Counting every call, not naming one, pauses a holder at
// each step of taking and giving back a lock in turn, whatever those steps are.
// Before it stops it writes `stopping <N>` to CODEX_LAB_TEST_STEP_LOG, synchronously.
import { appendFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const stopAt = Number(process.env.CODEX_LAB_TEST_STOP_AT_STEP);
const stepLog = process.env.CODEX_LAB_TEST_STEP_LOG;
let armed = false;
let steps = 0;
globalThis.armFileSteps = () => {
  armed = true;
};
for (const [name, original] of Object.entries(fsp)) {
  if (typeof original !== 'function') continue;
  fsp[name] = async function (...args) {
    try {
      return await original.apply(this, args);
    } finally {
      if (armed) {
        steps += 1;
        if (steps === stopAt) {
          if (stepLog) appendFileSync(stepLog, `stopping ${steps} after ${name}\n`);
          process.kill(process.pid, 'SIGSTOP');
        }
      }
    }
  };
}
syncBuiltinESMExports();
