/**
 * The command line says one fact one way, whichever command meets it: an unknown profile, no
 * profiles yet, a mistyped option (as every other error: `codex-lab:`, one sentence, pointing at
 * the command's own help), and `--json` (pretty-printed everywhere but `log`'s JSON Lines).
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noProfilesSentence } from '../../core/format.ts';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

let home: string;

beforeEach(async () => {
  home = await makeTempHome('codex-lab-wording-');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function addProfiles(names: string[]): Promise<void> {
  const store = new ProfileStore({ paths: labPaths(home) });
  for (const name of names) {
    await store.saveSignIn({
      auth: makeAuth({ email: `${name}@example.com`, accountId: `acct-${name}` }),
      requestedName: name,
    });
  }
}

describe('one sentence per fact', () => {
  it('an unknown profile is said the same by use, pin, priming, codex --profile and log --profile', async () => {
    await addProfiles(['al', 'bob']);
    const runs = [
      ['use', 'nobody'],
      ['pin', 'nobody', '--session', '0199aabb-ccdd-7eef-8899-aabbccddeeff'],
      ['priming', 'on', 'nobody'],
      ['codex', '--profile', 'nobody', '--', 'exec', 'x'],
      ['log', '--profile', 'nobody'],
    ];
    const said = new Set<string>();
    for (const args of runs) {
      const run = await runCodexLab(args, {
        home,
        env: { CODEX_LAB_CODEX_BIN: '/bin/false', CODEX_LAB_PORT: '1' },
      });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout, args.join(' ')).toBe('');
      said.add(run.stderr);
    }
    expect([...said]).toEqual([
      'codex-lab: There is no profile named "nobody"; run `codex-lab list` to see them.\n',
    ]);
  });

  it('a near miss of one profile name is said with that name, by every command alike', async () => {
    await addProfiles(['al', 'bob', 'research']);
    const said = new Set<string>();
    for (const args of [
      ['use', 'reserch'],
      ['priming', 'on', 'reserch'],
      ['codex', '--profile', 'reserch', '--', 'exec', 'x'],
      ['log', '--profile', 'reserch'],
    ]) {
      const run = await runCodexLab(args, {
        home,
        env: { CODEX_LAB_CODEX_BIN: '/bin/false', CODEX_LAB_PORT: '1' },
      });
      expect(run.code, args.join(' ')).toBe(2);
      said.add(run.stderr);
    }
    expect([...said]).toEqual([
      'codex-lab: There is no profile named "reserch" (did you mean research?); run `codex-lab list` to see them.\n',
    ]);
  });

  it('an empty name is said as a missing name by every command alike, pointing at its help, and does nothing', async () => {
    await addProfiles(['al', 'bob']);
    for (const [command, ...args] of [
      ['remove', ''],
      ['pin', '', '--session', '0199aabb-ccdd-7eef-8899-aabbccddeeff'],
      ['priming', 'on', ''],
      ['prime', ''],
      ['prime', '', '--dry-run'],
      ['codex', '--profile', '', '--', 'exec', 'x'],
      ['log', '--profile', ''],
      ['usage', ''],
      ['login', ''],
    ] as const) {
      const run = await runCodexLab([command, ...args], {
        home,
        env: { CODEX_LAB_CODEX_BIN: '/bin/false', CODEX_LAB_PORT: '1' },
      });
      const said = `${command} ${args.join(' ')}`;
      // A refused command line, as commander's own refusals: exit 2, the command's own help.
      expect(run.code, said).toBe(2);
      expect(run.stdout, said).toBe('');
      expect(run.stderr, said).toBe(
        `codex-lab: Missing the profile name; run codex-lab ${command} --help for usage.\n`,
      );
    }
  });

  it('no profiles yet is said the same by list and usage', async () => {
    const list = await runCodexLab(['list'], { home });
    const usage = await runCodexLab(['usage'], { home });
    expect(list.code).toBe(0);
    expect(usage.code).toBe(0);
    expect(list.stdout).toContain(noProfilesSentence);
    expect(usage.stdout).toBe(list.stdout);
    // The pool summary of an empty home says the same sentence, with its way out.
    const pool = await runCodexLab(['usage', '--pool'], { home });
    expect(pool.code).toBe(0);
    expect(pool.stdout).toBe(list.stdout);
  });

  it.each([
    [['log', '--limit', '5'], 'log'],
    [['usage', '--refrsh'], 'usage'],
    [['use'], 'use'],
    [['rename', 'a', 'b', 'c'], 'rename'],
  ])(
    'a malformed command line (%j) is one codex-lab: sentence pointing at the command help, exit 2',
    async (args, command) => {
      const run = await runCodexLab(args, { home });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.replace(/\n$/, '').split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^codex-lab: [A-Z].*\.$/);
      expect(lines[0]).toContain(`run codex-lab ${command} --help`);
      expect(lines[0]).not.toContain('error:');
    },
  );

  it('an unknown command points at the top-level help, in the same form', async () => {
    const run = await runCodexLab(['lst'], { home });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^codex-lab: Unknown command 'lst'.*run codex-lab --help.*\.\n$/);
  });

  it('every --json but log (JSON Lines) is pretty-printed the same way', async () => {
    await addProfiles(['al']);
    for (const args of [['list'], ['pins'], ['usage'], ['status']]) {
      const run = await runCodexLab([...args, '--json'], { home });
      const value: unknown = JSON.parse(run.stdout);
      expect(run.stdout, args[0]).toBe(`${JSON.stringify(value, null, 2)}\n`);
    }
  });
});
