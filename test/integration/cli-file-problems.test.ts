/**
 * A profile whose auth file cannot be read, as `usage` and `list` say it with stdout and stderr on
 * one screen (a terminal, `2>&1`): the table whole, then the file named once, on a line of its own,
 * and exit 1 (docs/quota.md: 1 for a file it cannot read).
 */
import { rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLabMerged } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

describe('an unreadable auth file in usage and list', () => {
  let home: string;
  let paths: LabPaths;
  beforeEach(async () => {
    home = await makeTempHome();
    paths = labPaths(home);
    const store = new ProfileStore({ paths });
    await store.saveSignIn({
      auth: makeAuth({ email: 'alice@example.com', accountId: 'acct-alice' }),
      requestedName: null,
    });
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** The lines of `output` that name `file`. */
  const naming = (output: string, file: string) =>
    output.split('\n').filter((line) => line.includes(file));

  it.each([
    [['usage'], /^alice\s+auth file unreadable/],
    [['usage', 'alice'], /^alice\s+auth file unreadable/],
    [['usage', '--pool'], /^No account can be used/],
    [['list'], /^\s+alice\s+plus\s+auth file unreadable/],
  ])(
    '%j: the output first, then the file named once on its own line, exit 1',
    async (args, row) => {
      const file = paths.profileAuth('alice');
      await writeFile(file, '{not json');
      const run = await runCodexLabMerged(args, {
        home,
        env: { CODEX_LAB_CHATGPT_BASE_URL: 'http://127.0.0.1:9/' },
      });
      expect(run.code, run.output).toBe(1);
      const lines = run.output.split('\n');
      const said = naming(run.output, file);
      expect(said, run.output).toEqual([
        `codex-lab: ${file} is not valid JSON. It was left untouched: fix or move it, then try again.`,
      ]);
      // After what stdout shows, never before it or inside it.
      const rowAt = lines.findIndex((line) => row.test(line));
      expect(rowAt, run.output).toBeGreaterThanOrEqual(0);
      expect(lines.indexOf(said[0]!)).toBeGreaterThan(rowAt);
      expect(run.output.endsWith(`${said[0]}\n`), run.output).toBe(true);
    },
  );

  it('usage --refresh names an account whose auth file holds no tokens once, after the table', async () => {
    const file = paths.profileAuth('alice');
    await writeFile(file, '{}');
    const run = await runCodexLabMerged(['usage', '--refresh'], {
      home,
      env: { CODEX_LAB_CHATGPT_BASE_URL: 'http://127.0.0.1:9/' },
    });
    const said = run.output.split('\n').filter((line) => line.startsWith('codex-lab:'));
    expect(said, run.output).toHaveLength(1);
    expect(said[0]).toContain('codex-lab login alice');
    const lines = run.output.split('\n');
    expect(lines.indexOf(said[0]!)).toBeGreaterThan(
      lines.findIndex((line) => /^alice\s+needs sign-in/.test(line)),
    );
  });
});
