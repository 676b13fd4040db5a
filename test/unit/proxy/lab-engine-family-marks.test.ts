/**
 * A per-model family's limit mark (a 429 naming `codex_spark`) is kept in `state/health.json`:
 * a router started again on the same home still sends that family's requests away from the
 * limited profile, and a usage read with room for the family (another process's) lifts it.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import type { LabEngine } from '../../../core/proxy/lab-engine.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { applyReading } from '../../../core/quota/limit-marks.ts';
import type { QuotaSnapshot } from '../../../core/state/schema.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const time = Date.UTC(2026, 11, 3, 12);
const clock = { now: () => time, setTimeout: () => () => undefined };
const spark = 'gpt-5.3-codex-spark';
const hour = 3_600_000;

async function engineOn(home: string): Promise<LabEngine> {
  const { engine } = await inMemoryEngine({ home, profileCount: 2, clock });
  onTestFinished(() => engine.settled());
  return engine;
}

function turn(session: string, model: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: {
      'session-id': session,
      'x-codex-turn-metadata': `{"session_id":"${session}","workspaces":{"/repo":{}},"model":"${model}"}`,
    },
    body: null,
  };
}

function route(engine: LabEngine, info: ProxyRequestInfo): ProfilePick {
  const ticket = engine.prepare(info);
  const pick = ticket.choose(new Map());
  if (pick instanceof Promise || !pick.ok) throw new Error('not routed synchronously');
  return pick as ProfilePick;
}

function sparkReading(usedPercent: number): QuotaSnapshot {
  return {
    observedAt: time,
    source: 'usage',
    plan: 'plus',
    primary: { usedPercent: 10, windowMinutes: 300, resetsAt: time + hour },
    secondary: null,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [
      {
        limitId: 'codex_spark',
        limitName: 'Spark',
        primary: { usedPercent, windowMinutes: 300, resetsAt: time + hour },
        secondary: null,
      },
    ],
  };
}

describe('family limit marks across a restart', () => {
  it('keeps routing the family away from the limited profile after a restart', async () => {
    const home = tempFolder('codex-lab-family-marks-');
    const first = await engineOn(home);
    const info = turn('spark-1', spark);
    const limited = route(first, info).profile;
    first.markLimited(
      limited,
      { resetsAt: time + hour, message: 'Spark limit reached.', limitId: 'codex_spark' },
      info,
    );
    expect(route(first, turn('spark-2', spark)).profile).not.toBe(limited);
    await first.settled();

    const restarted = await engineOn(home);
    expect(route(restarted, turn('spark-3', spark)).profile).not.toBe(limited);
    // Other models still use it: only the family is limited.
    expect(restarted.health(limited).status).not.toBe('limited');

    // A CLI `usage --refresh` reads room for the family: the running router lifts it too.
    await new HealthStore(labPaths(home)).change((file) =>
      applyReading(file, limited, sparkReading(20), time + 1),
    );
    await restarted.reloadNow();
    expect(route(restarted, turn('spark-4', spark)).profile).toBe(limited);
  });
});
