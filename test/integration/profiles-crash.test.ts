import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { authDotJsonSchema, registrySchema } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, repoRoot } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

const rounds = 60;

/** Starts the writer, waits for its first complete round, lets it run a random moment, kills it. */
async function killWriterAtRandom(home: string): Promise<NodeJS.Signals | null> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'test/helpers/profile-writer.ts'), home, 'crash'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error(`writer exited before it was ready: ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
  child.kill('SIGKILL');
  return exited;
}

describe('a writer killed with SIGKILL at random moments', () => {
  let home: string;
  let paths: LabPaths;
  beforeAll(async () => {
    home = await makeTempHome();
    paths = labPaths(home);
    const store = new ProfileStore({ paths });
    await store.saveSignIn({
      auth: makeAuth({ email: 'crash@example.com', accountId: 'acct-crash' }),
      requestedName: 'crash',
    });
    await store.saveSignIn({
      auth: makeAuth({ email: 'bystander@example.com', accountId: 'acct-other' }),
      requestedName: 'bystander',
    });
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it(`never leaves a registry or auth.json that fails to parse (${rounds} kills)`, async () => {
    const bystander = await readFile(paths.profileAuth('bystander'), 'utf8');
    for (let round = 0; round < rounds; round += 1) {
      expect(await killWriterAtRandom(home)).toBe('SIGKILL');
      const registry = registrySchema.safeParse(JSON.parse(await readFile(paths.registry, 'utf8')));
      expect(registry.success, `registry after kill ${round}`).toBe(true);
      expect(registry.data?.profiles.map((p) => p.name)).toEqual(['crash', 'bystander']);
      const auth = authDotJsonSchema.safeParse(
        JSON.parse(await readFile(paths.profileAuth('crash'), 'utf8')),
      );
      expect(auth.success, `auth.json after kill ${round}`).toBe(true);
      expect(await readFile(paths.profileAuth('bystander'), 'utf8')).toBe(bystander);
      // The killed holder cannot release its lock; a dead holder's lock is safe to clear, and
      // clearing it here saves waiting out the stale timeout on every round.
      await rm(join(paths.locksDir, 'registry.lock'), { recursive: true, force: true });
    }
    // Only the two profile folders: a kill may leave a temp file, never a half-written profile.
    expect((await readdir(paths.profilesDir)).sort()).toEqual(['bystander', 'crash']);
  }, 180_000);
});
