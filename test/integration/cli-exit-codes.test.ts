/**
 * The one rule for the exit code of a `codex-lab` command that failed, run on the real built
 * command: what the user gave is wrong (a command line commander refuses, or a failure whose code
 * is in `inputErrorCodes`) exits 2; every other failure exits 1. Either way stderr is one
 * `codex-lab:` sentence, with no stack trace.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputErrorCodes, type ErrorCode } from '../../core/errors.ts';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

let home: string;
let repo: string;
beforeAll(async () => {
  home = await makeTempHome();
  repo = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-exit-codes-repo-')));
  mkdirSync(join(repo, '.git'));
  const store = new ProfileStore({ paths: labPaths(home) });
  for (const [email, accountId] of [
    ['alice@example.com', 'a'],
    ['bob@example.com', 'b'],
  ] as const) {
    await store.saveSignIn({ auth: makeAuth({ email, accountId }), requestedName: null });
  }
  // A pin of alice's, for `unpin bob` to refuse.
  expect((await runCodexLab(['pin', 'alice', '--repo', repo], { home })).code).toBe(0);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

/** Each input-error code, met the way a user meets it. */
const inputErrors: ReadonlyArray<readonly [ErrorCode, string[]]> = [
  ['invalid_argument', ['unpin', 'bob', '--repo', 'REPO']],
  ['invalid_name', ['rename', 'alice', 'not a name!']],
  ['name_taken', ['rename', 'alice', 'bob']],
  ['profile_not_found', ['use', 'ghost']],
  ['not_found', ['log', '--session', 'nope']],
];

/** One `codex-lab:` line, one sentence, and no line of a stack trace. */
function expectOneSentence(stderr: string): void {
  expect(stderr).toMatch(/^codex-lab: [^\n]+[.?]\n$/);
  expect(stderr).not.toMatch(/\n\s+at |Error:|\.\s+[A-Z][a-z]/);
}

describe('codex-lab exit codes', () => {
  it('has a row below for every input-error code', () => {
    expect(inputErrors.map(([code]) => code).sort()).toEqual([...inputErrorCodes].sort());
  });

  it.each(inputErrors)('exits 2 on %s, in one sentence', async (_code, args) => {
    const run = await runCodexLab(
      args.map((arg) => (arg === 'REPO' ? repo : arg)),
      { home },
    );
    expect(run.stdout).toBe('');
    expectOneSentence(run.stderr);
    expect(run.code).toBe(2);
  });

  it.each([
    ['an unknown option', ['list', '--limt']],
    ['an extra argument', ['use', 'alice', 'bob']],
    ['a session id that is no UUID', ['pin', 'alice', '--session', 'abc']],
    ['an empty name', ['remove', '']],
    ['an invalid --host', ['serve', '--host', '', '--port', '0']],
  ])('exits 2 on %s, in one sentence', async (_what, args) => {
    const run = await runCodexLab(args, { home });
    expectOneSentence(run.stderr);
    expect(run.code).toBe(2);
  });

  it.each([
    ['a malformed setting', ['list'], { CODEX_LAB_PORT: 'abc' }],
    ['no router to open the dashboard of', ['dashboard', '--print'], {}],
  ] as const)('exits 1 on %s, in one sentence', async (_what, args, env) => {
    const run = await runCodexLab([...args], { home, env });
    expectOneSentence(run.stderr);
    expect(run.code).toBe(1);
  });
});
