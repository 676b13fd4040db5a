/**
 * `codex-lab status` on a terminal: what it says of a running router, and of none, fits the width
 * the command's stdout reports (100 when it is no terminal), as `list`, `usage` and `log` do, every
 * word kept.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStatus } from '../../core/cli/commands/router.ts';
import { createCliContext } from '../../core/cli/context.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { terminal } from '../helpers/terminal.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  home = await makeTempHome('codex-lab-status-width-with-a-longer-name-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

/** `codex-lab status` on a stdout `columns` wide: its exit code and lines. */
async function status(columns: number | null): Promise<{ code: number; lines: string[] }> {
  const stdout = terminal(columns);
  const context = createCliContext({ CODEX_LAB_HOME: home }, stdout, terminal(null));
  const code = await runStatus(context, [], {});
  return { code, lines: stdout.text().replace(/\n$/, '').split('\n') };
}

describe.each([60, 80, null])('codex-lab status at %s columns (null: a pipe)', (columns) => {
  const width = columns ?? 100;

  it('fits the width with a router running and with none', async () => {
    const none = await status(columns);
    expect(none.code).toBe(1);
    for (const line of none.lines) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(none.lines.join(' ')).toBe(`No Codex Lab router is running for ${home}.`);

    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    children.push(serve);
    const running = await status(columns);
    expect(running.code).toBe(0);
    for (const line of running.lines) expect(line.length, line).toBeLessThanOrEqual(width);
    const said = running.lines.join(' ');
    expect(said).toMatch(
      new RegExp(
        `^Codex Lab router running on ${serve.url} \\(codex-lab serve, pid \\d+, up .*, version .*\\)\\. Profiles: 1 \\(alpha\\); active: auto\\.$`,
      ),
    );
  });
});
