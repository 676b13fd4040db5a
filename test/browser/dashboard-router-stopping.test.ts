/**
 * A `serve` asked to stop (SIGTERM, as a service manager or Ctrl-C asks) while it streams a turn
 * keeps answering until the turn ends: the dashboard says it is stopping, as `codex-lab status`
 * does, rather than showing it running. Real Chromium against the real `codex-lab serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { gatedTurns, type Gate } from '../helpers/gated-turns.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import {
  buildRenderer,
  hasChromium,
  launchChromium,
  routerTurn,
  startServe,
  type ServeProcess,
} from '../helpers/ui-browser.ts';

let fake: FakeChatGpt;
let serve: ServeProcess;
let browser: Browser;
let gate: Gate;

describe.skipIf(!hasChromium)('the dashboard of a router that is stopping', () => {
  beforeAll(async () => {
    buildRenderer();
    const gated = gatedTurns();
    gate = gated.gate;
    fake = await startFakeChatGpt({
      accounts: [{ email: 'work@example.com' }],
      handlers: [handleIssuerRequest, gated.handler, handleBackendRequest],
    });
    serve = await startServe(
      {
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
      },
      async (home) => {
        await seedProfiles(fake, home, [{ name: 'work', email: 'work@example.com' }]);
      },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    gate?.open();
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('says the router is stopping while its turn in flight finishes, as codex-lab status does', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${serve.url}/ui/#token=${serve.token}`);
    const status = page.getByLabel('Router status');
    await expect
      .poll(() => status.textContent(), { timeout: 20_000 })
      .toBe(`Router on ${serve.url}`);

    const turn = routerTurn(serve, 'held-session');
    await gate.started;
    serve.child.kill('SIGTERM');
    await expect
      .poll(() => status.textContent(), { timeout: 10_000 })
      .toBe(`Router on ${serve.url} stopping…`);
    const said = await runCodexLab(['status'], { home: serve.home });
    expect(said.stdout.replace(/\s+/g, ' ')).toContain(`Codex Lab router stopping on ${serve.url}`);

    gate.open();
    expect((await turn).status).toBe(200);
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe('Not connected');
  });
});
