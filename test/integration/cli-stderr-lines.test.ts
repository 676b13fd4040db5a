/**
 * What a one-shot command says on stderr when stderr is a pipe (a script, an IDE task,
 * `codex-lab list 2>&1 | cat`): sentences, each once, never a raw JSON log line, whatever the
 * store did on its own (a journal record set aside, replayed or kept, a corrupt state file).
 * `serve` is the exception on purpose: in a pipe it is a service, and its log is JSON lines.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { writeJournal } from '../../core/profiles/journal.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab, type CliRun } from '../helpers/cli.ts';
import { makeAuth, secretsOf } from '../helpers/profile-auth.ts';
import { startServe, startTwoProfileWorld } from './cli-serve-helper.ts';

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };
const bob = { email: 'bob@example.com', accountId: 'acct-bob' };
const secrets = [...secretsOf(makeAuth(alice)), ...secretsOf(makeAuth(bob))];

/** The one-shot commands each case runs, stderr a pipe (runCodexLab spawns with pipes). */
const list = ['list'];
const usage = ['usage'];
const commands = [
  list,
  ['status'],
  usage,
  ['pins'],
  ['use', 'alice'],
  ['pin', 'alice', '--session', '0199aabb-0000-7000-8000-000000000010'],
  ['unpin', '--session', '0199aabb-0000-7000-8000-000000000010'],
  ['use', 'auto'],
];

/**
 * The commands that read the profiles (and so replay the journal): `status` asks only the router,
 * `unpin` of a session with no pin has nothing to do.
 */
function readsProfiles(args: string[]): boolean {
  return args[0] !== 'status' && args[0] !== 'unpin';
}

/** A line that parses as JSON: a raw log object, not a sentence. */
function parsesAsJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** Asserts that a run's stderr is sentences, none repeated, none holding a token. */
function expectSentences(run: CliRun, args: string[]): void {
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  const label = `codex-lab ${args.join(' ')} wrote:\n${run.stderr}`;
  expect(lines.filter(parsesAsJson), label).toEqual([]);
  expect(
    lines.filter((line) => !line.startsWith('codex-lab: ')),
    label,
  ).toEqual([]);
  expect(new Set(lines).size, label).toBe(lines.length);
  for (const secret of secrets) expect(run.stderr, label).not.toContain(secret);
}

describe('one-shot commands with stderr in a pipe', () => {
  const homes: string[] = [];
  afterEach(async () => {
    for (const home of homes.splice(0)) await rm(home, { recursive: true, force: true });
  });

  /** A home with alice and bob signed in, then `plant` run on it. */
  async function homeWith(plant: (paths: LabPaths) => Promise<unknown>): Promise<string> {
    const home = await makeTempHome();
    homes.push(home);
    const paths = labPaths(home);
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    await mkdir(paths.journalDir, { recursive: true });
    await plant(paths);
    return home;
  }

  /**
   * Runs every command, each on a fresh home `plant` prepared (the first command to load the
   * store would otherwise deal with what was planted for all); returns what each wrote.
   */
  async function runAll(
    plant: (paths: LabPaths) => Promise<unknown>,
    env: Record<string, string | undefined> = {},
  ): Promise<Array<{ args: string[]; home: string; stderr: string; code: number | null }>> {
    const said: Array<{ args: string[]; home: string; stderr: string; code: number | null }> = [];
    for (const args of commands) {
      const home = await homeWith(plant);
      const run = await runCodexLab(args, { home, env });
      expectSentences(run, args);
      said.push({ args, home, stderr: run.stderr, code: run.code });
    }
    return said;
  }

  const tornRecord = '000001764550000000-0a1b2c3d-rename.json';
  const plantTorn = (paths: LabPaths) =>
    writeFile(`${paths.journalDir}/${tornRecord}`, '{"op":"rename","from":"alice","to":');

  it('names an unreadable journal record set aside in a sentence, not a log object', async () => {
    for (const { args, home, stderr } of await runAll(plantTorn)) {
      if (readsProfiles(args))
        expect(stderr).toContain(`${labPaths(home).journalDir}/unreadable/${tornRecord}`);
    }
  });

  it('says once per command what a replay did, and the corrupt health.json by name', async () => {
    const said = await runAll(async (paths) => {
      await writeJournal(paths.journalDir, {
        op: 'remove',
        name: 'bob',
        keyring: false,
        legacy: false,
        account: { accountId: bob.accountId, email: bob.email },
      });
      await writeFile(paths.health, '{not json');
    });
    for (const { args, home, stderr } of said) {
      if (readsProfiles(args)) expect(stderr).toContain(labPaths(home).health);
    }
    // `list` words what it found itself; the commands that take the store's logger say it too.
    expect(
      said.filter(({ stderr }) => /completed an interrupted removal/i.test(stderr)),
    ).not.toEqual([]);
  });

  // Linux without a session bus has no keychain: the record's replay fails on every load of the
  // store, several times in one command, and is kept for the next.
  it.runIf(process.platform === 'linux')(
    'says once, not on each load, that a journal record could not be replayed',
    async () => {
      const said = await runAll(
        (paths) =>
          writeJournal(paths.journalDir, {
            op: 'add',
            record: {
              name: 'carol',
              label: null,
              email: 'carol@example.com',
              plan: null,
              accountId: 'acct-carol',
              userId: null,
              createdAt: '2026-12-01T00:00:00.000Z',
              lastUsedAt: null,
              store: 'keyring',
              priming: { enabled: false, windows: ['weekly'], at: null, model: null },
            },
          }),
        { DBUS_SESSION_BUS_ADDRESS: undefined },
      );
      expect(said.filter(({ stderr }) => /-add\.json/.test(stderr))).not.toEqual([]);
    },
  );

  it('names a corrupt quota.json and health.json in sentences', async () => {
    const said = await runAll(async (paths) => {
      await writeFile(paths.quota, '{not json');
      await writeFile(paths.health, '[1,');
    });
    // The commands that show state read both files, and name each.
    for (const index of [commands.indexOf(list), commands.indexOf(usage)]) {
      const { home, stderr } = said[index]!;
      expect(stderr).toContain(labPaths(home).health);
      expect(stderr).toContain(labPaths(home).quota);
    }
  });

  it('names a corrupt health.json in the sentence list gives when the command reads it, succeeds, and leaves it as it was', async () => {
    const said = await runAll((paths) => writeFile(paths.health, '{not json'));
    const sentence = (home: string) =>
      `codex-lab: ${labPaths(home).health} is not valid JSON. It was left untouched: fix or move it, then try again.`;
    // The same sentence as \`list\` (which exits 1: it shows the state).
    const listed = said[commands.indexOf(list)]!;
    expect(listed.stderr).toContain(sentence(listed.home));
    for (const { args, home, stderr, code } of said) {
      expect(await readFile(labPaths(home).health, 'utf8'), args.join(' ')).toBe('{not json');
      // \`use NAME\` and \`pin NAME\` read it for the warning about a profile that cannot serve
      // (limited, needing sign-in): unread, the warning cannot be given, and they say why. Before,
      // they said nothing. The operation itself does not need the file.
      if ((args[0] === 'use' || args[0] === 'pin') && args[1] !== 'auto') {
        expect(code, args.join(' ')).toBe(0);
        expect(stderr.split('\n'), args.join(' ')).toContain(sentence(home));
      }
    }
  });

  it('says warnings unless CODEX_LAB_LOG_LEVEL asks for less, and debug only when asked', async () => {
    const args = ['use', 'alice'];
    const plain = await runCodexLab(args, { home: await homeWith(plantTorn) });
    expectSentences(plain, args);
    expect(plain.stderr).toContain(tornRecord);
    expect(plain.stderr).not.toMatch(/debug/i);
    const quiet = await runCodexLab(args, {
      home: await homeWith(plantTorn),
      env: { CODEX_LAB_LOG_LEVEL: 'error' },
    });
    expect(quiet.stderr).toBe('');
    const loud = await runCodexLab(args, {
      home: await homeWith(plantTorn),
      env: { CODEX_LAB_LOG_LEVEL: 'debug' },
    });
    expectSentences(loud, args);
    expect(loud.stderr).toContain(tornRecord);
  });
});

describe('serve with stderr in a pipe', () => {
  it('logs JSON lines, one object each (a service log), with no token', async () => {
    const world = await startTwoProfileWorld('codex-lab-serve-json-');
    try {
      const journal = labPaths(world.home).journalDir;
      await mkdir(journal, { recursive: true });
      await writeFile(`${journal}/000001764550000000-0a1b2c3d-rename.json`, '{"op":');
      const serve = await startServe(world.home, {
        CODEX_LAB_CHATGPT_BASE_URL: world.fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: world.fake.issuerUrl,
      });
      world.children.push(serve);
      serve.child.kill('SIGTERM');
      expect((await serve.exited).code).toBe(0);
      // stdout's lines are the URL and what it prints for people; every log line is an object.
      const logLines = serve
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'));
      const records = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(records).toContainEqual(
        expect.objectContaining({ level: 40, msg: 'set aside an unreadable journal record' }),
      );
    } finally {
      await world.close();
    }
  });
});
