/**
 * `codex-lab list` and `codex-lab usage` on a terminal: with a dozen accounts, a long name and a
 * long email, every line fits the width the command's stdout reports (100 when it is no terminal),
 * colour included; the columns stay aligned; the name, status and both quota windows always show
 * (a window's figure and countdown in the short form when narrow); what was left out is said in
 * one line pointing at `--wide`, and `--wide` shows everything uncut.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runList } from '../../../core/cli/commands/list.ts';
import { runUsage } from '../../../core/cli/commands/usage.ts';
import { createCliContext } from '../../../core/cli/context.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { terminal } from '../../helpers/terminal.ts';

/** 40 characters. */
const longName = 'research-team-shared-account-for-the-lab';
const limited = 'acct-limited';
const signIn = 'acct-sign-in';
const unknown = 'acct-unknown';
const names = [
  longName,
  'acct-02',
  'acct-03',
  'acct-04',
  'acct-05',
  'acct-06',
  'acct-07',
  'acct-08',
  'acct-09',
  limited,
  signIn,
  unknown,
];
const hour = 3_600_000;

/** An email of 50 characters for every account. */
function emailOf(index: number): string {
  return `user${String(index).padStart(2, '0')}@a-rather-long-consultancy-domain.example`;
}

/** The 5-hour and weekly figures left for the account at `index` (distinct per account). */
function figures(index: number): { fiveHour: number; weekly: number } {
  return { fiveHour: 90 - index, weekly: 60 - index };
}

/** A home with the twelve accounts, their quota, health, priming and pins. */
async function twelveAccounts(): Promise<string> {
  const home = tempFolder('codex-lab-list-width-');
  const paths = labPaths(home);
  const store = new ProfileStore({ paths });
  for (const [index, name] of names.entries()) {
    await store.saveSignIn({
      auth: makeAuth({ email: emailOf(index), accountId: `acct-id-${index}` }),
      requestedName: name,
    });
  }
  await store.setPriming(longName, { enabled: true });
  await store.setPin('repo', '/work/project', 'acct-03');
  const now = Date.now();
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const health = Object.fromEntries(
    names.map((name) => [
      name,
      name === limited
        ? {
            status: 'limited',
            unavailableUntil: now + 95 * hour + 30 * 60_000,
            code: 'usage_limit_reached',
            message: 'x',
            updatedAt: now,
          }
        : name === signIn
          ? {
              status: 'auth_error',
              unavailableUntil: null,
              code: 'refresh_token_reused',
              message: 'Sign in again.',
              updatedAt: now,
            }
          : { status: 'ok', unavailableUntil: null, code: null, message: null, updatedAt: now },
    ]),
  );
  await writeFile(paths.health, JSON.stringify({ version: 1, profiles: health }), { mode: 0o600 });
  const quota = Object.fromEntries(
    names
      .map((name, index) => ({ name, index }))
      .filter(({ name }) => name !== unknown)
      .map(({ name, index }) => {
        const left = figures(index);
        return [
          name,
          {
            latest: {
              observedAt: now - 60_000,
              source: 'usage',
              plan: 'pro',
              primary: {
                usedPercent: 100 - left.fiveHour,
                windowMinutes: 300,
                resetsAt: now + 3 * hour - 1000,
              },
              secondary: {
                usedPercent: 100 - left.weekly,
                windowMinutes: 10080,
                resetsAt: now + 96 * hour - 1000,
              },
              credits: null,
              activeLimit: null,
              limitReached: name === limited,
              others: [],
            },
            history: [
              { at: now - 5 * hour, primary: 0, secondary: 100 - left.weekly - 5 },
              { at: now - 60_000, primary: 100 - left.fiveHour, secondary: 100 - left.weekly },
            ],
          },
        ];
      }),
  );
  await writeFile(paths.quota, JSON.stringify({ version: 1, profiles: quota }), { mode: 0o600 });
  return home;
}

type Command = 'list' | 'usage';

/** The command's stdout lines as written (colour on a terminal) and as read (no colour). */
async function run(
  command: Command,
  columns: number | null,
  options: Record<string, unknown> = {},
): Promise<{ raw: string[]; lines: string[] }> {
  const home = await twelveAccounts();
  const stdout = terminal(columns);
  const stderr = terminal(null);
  const context = createCliContext({ CODEX_LAB_HOME: home }, stdout, stderr);
  const code =
    command === 'list' ? await runList(context, [], options) : await runUsage(context, [], options);
  expect(stderr.text()).toBe('');
  expect(code).toBe(0);
  const raw = stdout.text().replace(/\n$/, '').split('\n');
  // eslint-disable-next-line no-control-regex
  return { raw, lines: raw.map((line) => line.replace(/\u001b\[[0-9;]*m/g, '')) };
}

/** The table's lines: the header and one row per account (what follows comes after a blank). */
function tableOf(lines: string[]): { header: string; rows: string[] } {
  const end = lines.indexOf('');
  const table = lines.slice(0, end === -1 ? undefined : end);
  return { header: table[0]!, rows: table.slice(1) };
}

/** Where each column starts in the header (columns are two spaces apart; headers have one). */
function columnStart(header: string, name: RegExp): number {
  const match = name.exec(header);
  expect(match, `${String(name)} in ${header}`).not.toBeNull();
  return match!.index;
}

/** The row of the account `index`: the one that starts with its name (or, cut, its start). */
function rowOf(rows: string[], index: number): string[] {
  const name = names[index]!;
  const pattern = name === longName ? longName.slice(0, 14) : `${name}(\\s|$)`;
  return rows.filter((row) => new RegExp(`^[ *]?\\s*${pattern}`).test(row));
}

describe.each<[Command, number | null]>([
  ['list', 80],
  ['list', 120],
  ['list', null],
  ['usage', 80],
  ['usage', 120],
  ['usage', null],
])('codex-lab %s at %s columns (null: a pipe)', (command, columns) => {
  const width = columns ?? 100;

  it('fits the width, colour included, each account once with both windows', async () => {
    const { raw, lines } = await run(command, columns);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    // Colour on a terminal (statuses), off in a pipe: the widths above are of what shows.
    expect(raw.some((line) => line.includes('\u001b['))).toBe(columns !== null);
    const { header, rows } = tableOf(lines);
    expect(rows).toHaveLength(names.length);
    for (const [index, name] of names.entries()) {
      const found = rowOf(rows, index);
      expect(found, name).toHaveLength(1);
      const row = found[0]!;
      if (name === unknown) {
        expect(row).toContain('not known yet');
        continue;
      }
      const { fiveHour, weekly } = figures(index);
      expect(row).toMatch(new RegExp(`\\s${fiveHour}%.*\\s${weekly}%`));
    }
    expect(rowOf(rows, names.indexOf(limited))[0]).toContain('limited, back in 3d 23h');
    expect(rowOf(rows, names.indexOf(signIn))[0]).toContain('needs sign-in');
    // Aligned: each row's status and windows start under their headers.
    const status = columnStart(header, /STATUS/);
    const fiveHour = columnStart(header, /5-HOUR/);
    const weekly = columnStart(header, /WEEKLY(?! PACE)/);
    for (const row of rows) {
      expect(row.slice(status), row).toMatch(/^(ready|limited|needs sign-in)/);
      expect(row.slice(fiveHour), row).toMatch(/^(\d+%|not known yet)/);
      expect(row.slice(weekly), row).toMatch(/^(\d+%|not known yet)/);
    }
    // The pace is the weekly window's: said in the header, not again on every row.
    for (const row of rows) expect(row).not.toContain('weekly pace');
  });

  it('says in one line what it left out, pointing at --wide', async () => {
    const { lines } = await run(command, columns);
    const { header } = tableOf(lines);
    const notes = lines.filter((line) => line.includes(`codex-lab ${command} --wide`));
    expect(notes).toHaveLength(1);
    const left = command === 'list' ? ['EMAIL', 'PRIMING'] : [];
    for (const name of left) {
      expect(header).not.toContain(name);
      expect(notes[0]).toContain(name);
    }
  });
});

describe.each<Command>(['list', 'usage'])('codex-lab %s --wide', (command) => {
  it('shows every column and every cell uncut, however narrow the terminal', async () => {
    const { lines } = await run(command, 80, { wide: true });
    const { header, rows } = tableOf(lines);
    const headers =
      command === 'list'
        ? ['PROFILE', 'EMAIL', 'PLAN', 'STATUS', '5-HOUR', 'WEEKLY', 'PRIMING', 'PINS']
        : ['PROFILE', 'STATUS', '5-HOUR', 'WEEKLY', 'PACE', 'UPDATED'];
    for (const name of headers) expect(header).toContain(name);
    expect(lines.join('\n')).not.toContain('…');
    expect(lines.join('\n')).not.toContain('--wide');
    expect(
      rows.filter((row) => row.includes(` ${longName} `) || row.startsWith(longName)),
    ).toHaveLength(1);
    const { fiveHour, weekly } = figures(0);
    expect(rowOf(rows, 0)[0]).toMatch(
      new RegExp(`${fiveHour}% left, resets in 2h 59m\\s+${weekly}% left, resets in 3d 23h`),
    );
    expect(rowOf(rows, names.indexOf(limited))[0]).toMatch(
      /limited, back in 3d 23h, at \w{3} \d\d:\d\d/,
    );
    if (command === 'list') {
      expect(rowOf(rows, 0)[0]).toContain(emailOf(0));
      expect(rowOf(rows, names.indexOf('acct-03'))[0]).toContain('pinned (1)');
    } else {
      for (const row of rows) expect(row).not.toContain('weekly pace');
    }
  });
});

describe.each<[Command, number]>([
  ['list', 60],
  ['list', 50],
  ['usage', 46],
])('codex-lab %s at %s columns (a split pane)', (command, width) => {
  it('still fits: names and statuses are cut further, both windows stay whole', async () => {
    const { lines } = await run(command, width);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    const { header, rows } = tableOf(lines);
    expect(header).toMatch(/PROFILE\s+STATUS\s+5-HOUR LEFT\s+WEEKLY LEFT$/);
    expect(rows).toHaveLength(names.length);
    for (const [index, row] of rows.entries()) {
      const name = names[index]!;
      // The name's first characters, or all of it, then the two windows uncut.
      expect(row.trimStart().startsWith(name.slice(0, 4)), row).toBe(true);
      const { fiveHour, weekly } = figures(index);
      if (name !== unknown) {
        expect(row).toMatch(new RegExp(`${fiveHour}% · 2h 59m\\s+${weekly}% · 3d 23h$`));
      }
    }
  });
});
