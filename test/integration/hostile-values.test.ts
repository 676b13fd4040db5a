/**
 * Hostile or absurd values (issue 9, items 7 and 9's files): one out-of-range time from the
 * upstream (a 429 `resets_at` of 1e308, an `x-codex-primary-reset-at` of 1e14, a usage `reset_at`
 * of 1e15) used to make every request answer 500, persist in quota.json and crash `list`. Now the
 * boundary drops them; a state file holding such values is reported by name; `state` being a file
 * is one sentence. The fake answers for one account with the hostile values, the other is normal.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { quotaFileSchema } from '../../core/state/schema.ts';
import { accountForBearer, handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt, type FakeHandler } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';

/** Answers every request of `hostile@example.com` with absurd times. */
const hostile: FakeHandler = (fake, request, response) => {
  const bearer = accountForBearer(fake, request.headers.authorization);
  if (!bearer.ok || bearer.account.email !== 'hostile@example.com') return false;
  const path = new URL(request.url ?? '/', fake.issuerUrl).pathname;
  const headers = {
    'content-type': 'application/json',
    'x-codex-primary-used-percent': '100',
    'x-codex-primary-window-minutes': '300',
    'x-codex-primary-reset-at': '100000000000000',
    'x-codex-secondary-used-percent': '-5e300',
  };
  if (path === '/backend-api/codex/responses') {
    response.writeHead(429, headers);
    response.end(
      JSON.stringify({
        error: { type: 'usage_limit_reached', message: 'limit', resets_at: 1e308 },
      }),
    );
    return true;
  }
  if (path === '/backend-api/wham/usage') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        plan_type: 'plus',
        rate_limit: {
          primary_window: { used_percent: 5, limit_window_seconds: 18000, reset_at: 1e15 },
          secondary_window: { used_percent: 1e300, limit_window_seconds: 1e300, reset_at: -1 },
        },
      }),
    );
    return true;
  }
  return false;
};

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let service: LabService;
let url: string;
let token: string;
const env = () => ({
  CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
});

beforeAll(async () => {
  fake = await startFakeChatGpt({
    accounts: [{ email: 'hostile@example.com' }, { email: 'normal@example.com' }],
    handlers: [handleIssuerRequest, hostile, handleBackendRequest],
  });
  home = await mkdtemp(join(tmpdir(), 'codex-lab-hostile-'));
  paths = labPaths(home);
  await signInProfiles(fake, paths, [
    ['hostile@example.com', 'hostile'],
    ['normal@example.com', 'normal'],
  ]);
  service = createTestLabService(fake, paths);
  token = await service.routerToken();
  ({ url } = await service.start({ port: 0 }));
});

afterAll(async () => {
  await service.stop();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('absurd upstream times', () => {
  it('never turn requests into 500s: the limited account is skipped, the other serves', async () => {
    for (let turn = 0; turn < 4; turn += 1) {
      const answer = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody({ session: `s-${turn}` }),
        { 'x-codex-lab-profile': turn === 0 ? 'hostile' : '' },
      );
      expect(answer.status).not.toBe(500);
      await answer.text();
    }
    const routed = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session: 'after' }),
    );
    expect(routed.status).toBe(200);
    expect(routed.headers.get('x-codex-lab-profile')).toBe('normal');
    await routed.text();
  });

  it('never reach quota.json, and list and usage still work', async () => {
    const refreshed = await service.refreshUsage({ profile: null });
    expect(refreshed.ok).toBe(true);
    await service.stop();
    const file = quotaFileSchema.safeParse(JSON.parse(await readFile(paths.quota, 'utf8')));
    expect(file.success).toBe(true);
    for (const args of [['list'], ['usage']]) {
      const run = await runCodexLab(args, { home, env: env() });
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.code, run.stderr).toBe(0);
    }
    ({ url } = await service.start({ port: 0 }));
  });
});

describe('state files with absurd values', () => {
  it('are reported by name, without a stack trace', async () => {
    const other = await mkdtemp(join(tmpdir(), 'codex-lab-hostile-state-'));
    try {
      await signInProfiles(fake, labPaths(other), [['normal@example.com', 'normal']]);
      const quota = labPaths(other).quota;
      await writeFile(
        quota,
        JSON.stringify({
          version: 1,
          profiles: {
            normal: {
              latest: {
                observedAt: 1e300,
                source: 'usage',
                plan: null,
                primary: { usedPercent: 5, windowMinutes: 300, resetsAt: 1e300 },
                secondary: null,
                credits: null,
                activeLimit: null,
                limitReached: null,
              },
              history: [],
            },
          },
        }),
      );
      for (const args of [['list'], ['usage']]) {
        const run = await runCodexLab(args, { home: other, env: env() });
        expect(run.stderr, `${args.join(' ')}: ${run.stdout}`).toContain(quota);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('`state` being a file is one sentence, not a stack trace', async () => {
    const other = await mkdtemp(join(tmpdir(), 'codex-lab-hostile-state-'));
    try {
      await signInProfiles(fake, labPaths(other), [['normal@example.com', 'normal']]);
      await rm(labPaths(other).stateDir, { recursive: true, force: true });
      await writeFile(labPaths(other).stateDir, 'not a folder');
      for (const args of [['use', 'normal'], ['rename', 'normal', 'work'], ['list']]) {
        const run = await runCodexLab(args, { home: other, env: env() });
        expect(run.stderr).not.toMatch(/\n\s+at /);
        expect(run.stderr, args.join(' ')).toContain('is a file, not a folder');
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
