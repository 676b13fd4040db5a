/**
 * `codex-lab login` and the dashboard's "Sign in" when the home cannot take the sign-in (a file
 * stands where `state/` or `auth-profiles/` must be: tests run as root, where folder permissions
 * do not stop writes): refused before any sign-in URL, naming the folder, nothing issued.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issuerStats, setNextLogin } from '../fakes/fake-issuer.ts';
import { createTestLabService } from '../helpers/lab-service.ts';
import {
  killRunning,
  loginEnv,
  spawnCli,
  startSignInFixture,
  type CliProcess,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
const processes: CliProcess[] = [];

beforeEach(async () => {
  fixture = await startSignInFixture();
  ({ fake, home } = fixture);
});

afterEach(async () => {
  killRunning(processes, 'SIGTERM');
  await fixture.close();
});

describe('a sign-in into a home that cannot save it', () => {
  it('codex-lab login refuses before the URL, naming the folder, and exits non-zero', async () => {
    writeFileSync(home.paths.stateDir, 'not a folder');
    setNextLogin(fake, 'alice@example.com');
    const running = spawnCli(['login', 'alice', '--no-browser', '--timeout', '5'], {
      ...loginEnv(home, fake),
    });
    processes.push(running);
    expect(await running.exited).toBe(1);
    expect(running.stdout()).not.toMatch(/https?:\/\//);
    const lines = running.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^codex-lab: Codex Lab cannot write in /);
    expect(lines[0]).toContain(home.paths.stateDir);
    expect(lines[0]).toContain('no sign-in was started');
    expect(issuerStats(fake).revoke).toBe(0);
    // The file in the way is left as it is.
    expect(readFileSync(home.paths.stateDir, 'utf8')).toBe('not a folder');
  });

  it('the dashboard’s sign-in is refused with the same code, before any browser step', async () => {
    writeFileSync(home.paths.profilesDir, 'not a folder');
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    try {
      const started = await service.startLogin({ name: 'alice', popup: false });
      expect(started).toMatchObject({ ok: false, code: 'io_error' });
      expect(started.ok ? '' : started.message).toContain(
        `Codex Lab cannot write in ${home.paths.profilesDir}`,
      );
      expect((await service.getState()).logins).toEqual([]);
    } finally {
      await service.stop();
    }
  });
});
