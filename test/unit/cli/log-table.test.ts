/**
 * `codex-lab log`'s table on a terminal: it fits the width the command's stdout reports (100 when
 * it is no terminal), keeps its columns aligned, says each request's route in the short words and
 * each fact of a row once, and cuts long names and reasons with "…". `--wide` shows it all.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLog } from '../../../core/cli/commands/log.ts';
import { createCliContext } from '../../../core/cli/context.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { terminal } from '../../helpers/terminal.ts';

const longName = 'research-team-shared-account-for-the-whole-lab';

/** A request line as the router's journal holds it. */
function request(id: number, at: number, patch: Record<string, unknown>): string {
  return (
    JSON.stringify({
      type: 'request',
      id,
      at,
      sessionId: `019a7c2e-5b1d-7000-8000-00000000000${id}`,
      runId: null,
      profile: 'work',
      route: 'best',
      reason: 'Best: 12% used in its tightest window.',
      why: { rule: 'best', pin: null, left: [] },
      model: 'gpt-5.5',
      kind: 'responses',
      status: 200,
      ttfbMs: 850,
      durationMs: 1250,
      tokens: { input: 12_400, cached: 8000, output: 310, reasoning: 0 },
      fallback: [],
      ...patch,
    }) + '\n'
  );
}

/** A journal with one request of each kind the table has to say. */
async function journalHome(): Promise<string> {
  const home = tempFolder('codex-lab-log-table-');
  await mkdir(join(home, 'state'), { recursive: true, mode: 0o700 });
  const at = Date.now() - 60_000;
  await writeFile(
    join(home, 'state', 'activity.jsonl'),
    [
      // 1: a session kept on its account.
      request(1, at, { route: 'sticky', why: { rule: 'session', pin: null, left: [] } }),
      // 2: pinned by a session pin.
      request(2, at + 1000, {
        profile: 'team',
        route: 'pinned',
        pinned: 'team',
        why: { rule: 'pin', pin: 'session', left: [] },
      }),
      // 3: the session's account had used its quota: moved before trying it.
      request(3, at + 2000, {
        profile: 'team',
        route: 'fallback',
        why: { rule: 'best', pin: null, left: [{ profile: 'work', code: 'exhausted' }] },
      }),
      // 4: the account's sign-in broke on this request: tried, then moved.
      request(4, at + 3000, {
        profile: 'team',
        route: 'fallback',
        why: { rule: 'best', pin: null, left: [{ profile: 'work', code: 'auth_error' }] },
        fallback: [{ profile: 'work', reason: 'unauthorized' }],
      }),
      // 5: a long profile name.
      request(5, at + 4000, {
        profile: longName,
        route: 'active',
        why: { rule: 'active', pin: null, left: [] },
      }),
    ].join(''),
    { mode: 0o600 },
  );
  return home;
}

async function logTable(
  columns: number | null,
  options: Record<string, unknown> = {},
): Promise<string[]> {
  const home = await journalHome();
  const stdout = terminal(columns);
  const stderr = terminal(null);
  const context = createCliContext({ CODEX_LAB_HOME: home }, stdout, stderr);
  expect(await runLog(context, [], options)).toBe(0);
  expect(stderr.text()).toBe('');
  return stdout.text().split('\n');
}

/** The table's lines: the header and one row per request (the totals follow a blank line). */
function tableOf(lines: string[]): { header: string; rows: string[] } {
  const end = lines.indexOf('');
  const table = lines.slice(0, end === -1 ? undefined : end);
  return { header: table[0]!, rows: table.slice(1) };
}

/** How many times `fact` occurs in `line`. */
function count(line: string, fact: string): number {
  return line.split(fact).length - 1;
}

describe.each([80, 120])('codex-lab log on a %i-column terminal', (columns) => {
  it('fits the width, its columns aligned', async () => {
    const lines = await logTable(columns);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(columns);
    const { header, rows } = tableOf(lines);
    expect(rows).toHaveLength(5);
    // Each column starts where its header does, in every row.
    const starts = [...header.matchAll(/\S+/g)].map((match) => match.index);
    for (const row of rows) {
      // A row whose last cells are empty ends early (no trailing spaces).
      for (const start of starts.slice(1).filter((start) => start < row.length)) {
        expect(row[start - 1], row).toBe(' ');
      }
    }
    expect(header.startsWith('TIME')).toBe(true);
    expect(header).toMatch(/ PROFILE +ROUTE /);
    expect(header).toMatch(/ FALLBACK$/);
  });

  it('says each fact of a row once, the route in short words', async () => {
    const { rows } = tableOf(await logTable(columns));
    const [sticky, pinned, exhausted, signIn, long] = rows as [
      string,
      string,
      string,
      string,
      string,
    ];
    expect(sticky).toMatch(/ work +kept on account /);
    expect(pinned).toMatch(/ team +session pin /);
    for (const row of [exhausted, signIn]) {
      expect(row).toMatch(/ team +best by quota /);
      // The account it left is named once, where FALLBACK says why; the route does not repeat it.
      expect(count(row, 'work'), row).toBe(1);
      expect(row).not.toContain('fallback after');
    }
    expect(count(exhausted, 'had used up its quota')).toBe(1);
    expect(exhausted).toMatch(/ work had used up its quota$/);
    // The upstream's refusal and the router's reading of it are one fact.
    expect(count(signIn, 'needed a sign-in')).toBe(1);
    expect(signIn).not.toContain('unauthorized');
    expect(signIn).toMatch(/ work needed a sign-in$/);
    // A long name is cut at a bound, never wrapped.
    expect(long).toMatch(/ research-team-s\S*… +active account /);
    expect(long).not.toContain(longName);
  });
});

describe('codex-lab log off a terminal', () => {
  it('lays the table out for 100 columns', async () => {
    const lines = await logTable(null);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(tableOf(lines).rows).toHaveLength(5);
  });

  it('--wide says the full sentences and names, uncut', async () => {
    const { rows } = tableOf(await logTable(80, { wide: true }));
    expect(rows[0]).toContain(' kept on its account for the prompt cache ');
    expect(rows[1]).toContain(' pinned (session pin) ');
    expect(rows[4]).toContain(` ${longName} `);
    expect(rows.join('\n')).not.toContain('…');
    expect(count(rows[2]!, 'work')).toBe(1);
    expect(count(rows[3]!, 'work')).toBe(1);
  });
});
