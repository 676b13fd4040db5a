/**
 * `codex-lab help`, a command's `--help` and `codex-lab pins` on a terminal: every line fits the
 * width the command's stdout reports (100 when it is no terminal), as `list`, `usage` and `log` do;
 * the help still names every option and environment variable, and the pins table still names every
 * pin's profile.
 */
import { describe, expect, it } from 'vitest';
import { createCliContext } from '../../../core/cli/context.ts';
import { runCli } from '../../../core/cli/main.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { terminal } from '../../helpers/terminal.ts';

const widths = [60, 80, null] as const;

/**
 * `line` is at most `width` wide, or holds one word (an address), which help never breaks, as
 * `wrapText` never does.
 */
function fits(line: string, width: number): void {
  if (line.length <= width) return;
  expect(line.trim(), `${line} (${line.length} > ${width})`).toMatch(/^\S+$/);
}

/** What `codex-lab ARGS…` printed on a stdout `columns` wide, with its exit code. */
async function run(
  args: string[],
  columns: number | null,
  home = tempFolder('codex-lab-help-width-'),
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const stdout = terminal(columns);
  const stderr = terminal(columns);
  const context = createCliContext({ CODEX_LAB_HOME: home }, stdout, stderr);
  const code = await runCli(args, context);
  return { code, lines: stdout.text().replace(/\n$/, '').split('\n'), stderr: stderr.text() };
}

describe.each(widths)('at %s columns (null: a pipe)', (columns) => {
  const width = columns ?? 100;

  it('codex-lab help fits, and still names every command and environment variable', async () => {
    const { code, lines } = await run(['help'], columns);
    expect(code).toBe(0);
    for (const line of lines) fits(line, width);
    const text = lines.join('\n');
    for (const command of ['login', 'list', 'pins', 'usage', 'log', 'codex-config', 'dashboard']) {
      expect(text).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(text).toContain('Environment:');
    for (const name of ['CODEX_LAB_HOME', 'CODEX_LAB_CHATGPT_BASE_URL', 'HTTPS_PROXY, NO_PROXY']) {
      expect(text).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
    }
    // A wrapped description keeps its words: nothing is cut.
    expect(text.replace(/\s+/g, ' ')).toContain(
      'reach OpenAI through a proxy, as Codex does (HTTP_PROXY, ALL_PROXY too)',
    );
  });

  it.each([['log'], ['serve'], ['token'], ['codex-config']])(
    'codex-lab %s --help fits and names every option',
    async (command) => {
      const { code, lines } = await run([command, '--help'], columns);
      expect(code).toBe(0);
      for (const line of lines) fits(line, width);
      expect(lines.join('\n')).toMatch(/^ {2}-h, --help\s/m);
    },
  );

  it('codex-lab pins fits, naming every pin and its profile', async () => {
    const home = tempFolder('codex-lab-pins-width-');
    const store = new ProfileStore({ paths: labPaths(home) });
    for (const name of ['research-team-shared-account', 'work']) {
      await store.saveSignIn({
        auth: makeAuth({ email: `${name}@example.com`, accountId: `acct-${name}` }),
        requestedName: name,
      });
    }
    const repo = `${tempFolder('codex-lab-pins-repos-')}/clients/a-rather-long-client-name/monorepo`;
    await store.setPin('repo', repo, 'research-team-shared-account', true);
    await store.setPin('session', '0199aabb-ccdd-7eef-8899-aabbccddeeff', 'work');
    const { code, lines, stderr } = await run(['pins'], columns, home);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^repo\s.*research-team-shared-account/);
    expect(lines[2]).toMatch(/^session\s.*work/);
  });

  it('codex-lab pins with no pins says so within the width, every word kept', async () => {
    const { code, lines } = await run(['pins'], columns);
    expect(code).toBe(0);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(lines.join(' ')).toContain('codex-lab pin NAME --session ID.');
  });
});
