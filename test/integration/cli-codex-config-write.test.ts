/**
 * `codex-lab codex-config --write` / `--remove` on a real file under `CODEX_HOME`: the keys land
 * above the trust tables Codex appends, the file keeps its mode, the first run keeps a backup, a
 * second run changes nothing, `--remove` gives the original back, and a file that does not parse
 * is refused by name and left as it was.
 */
import { chmod, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { labPaths } from '../../core/home/paths.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { resolveCodexBins } from '../e2e/harness.ts';
import { spawnSync } from 'node:child_process';

let home: string;
let codexHome: string;
let configPath: string;

beforeEach(async () => {
  home = await makeTempHome();
  codexHome = join(home, 'codex-home');
  configPath = join(codexHome, 'config.toml');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const trusted = [
  'model = "gpt-5.5"',
  '',
  '[projects."/home/x/repo"]',
  'trust_level = "trusted"',
  '',
].join('\n');

/** What --write says about resuming sessions across the change of provider. */
const sessionNote =
  'Codex records the provider of each session and will not resume it with another: sessions started before this cannot be resumed through Codex Lab, nor those started through it after --remove.';

function run(args: string[]) {
  return runCodexLab(['codex-config', ...args], {
    home,
    env: { CODEX_HOME: codexHome, CODEX_LAB_PORT: '4567' },
  });
}

describe('codex-lab codex-config --write', () => {
  it('puts the keys above the trust table, keeps the mode, backs up once, is idempotent, and --remove restores the file', async () => {
    await mkdir(codexHome, { recursive: true });
    await writeFile(configPath, trusted, { mode: 0o640 });
    await chmod(configPath, 0o640);
    const token = await loadOrCreateRouterToken(labPaths(home));

    const first = await run(['--write']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const backup = `${configPath}.codex-lab-backup`;
    expect(first.stdout).toContain(`Backed up ${configPath} to ${backup}.`);
    expect(first.stdout).toContain('Codex now goes through Codex Lab');
    expect(first.stdout).toContain(`\n${sessionNote}\n`);
    const written = await readFile(configPath, 'utf8');
    const data = parse(written);
    expect(data['model_provider']).toBe('codex-lab');
    expect(data['chatgpt_base_url']).toBe('http://127.0.0.1:4567/backend-api/');
    expect(data['projects']).toEqual({ '/home/x/repo': { trust_level: 'trusted' } });
    expect(written).not.toContain(token);
    expect((await stat(configPath)).mode & 0o777).toBe(0o640);
    expect(await readFile(backup, 'utf8')).toBe(trusted);
    expect((await stat(backup)).mode & 0o777).toBe(0o600);

    const second = await run(['--write']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(
      `${configPath} already sends Codex through Codex Lab; nothing changed.\n`,
    );
    expect(await readFile(configPath, 'utf8')).toBe(written);

    const removed = await run(['--remove']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`Took Codex Lab out of ${configPath}`);
    expect(await readFile(configPath, 'utf8')).toBe(trusted);
    // The backup is of the file before the first --write, and stays.
    expect(await readFile(backup, 'utf8')).toBe(trusted);
  });

  it('names the settings of yours it set aside, one or two, in a sentence that agrees with them', async () => {
    await mkdir(codexHome, { recursive: true });
    await writeFile(configPath, 'model_provider = "mine"\n');
    const one = await run(['--write']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(
      'Your own model_provider is kept in that file as a "# codex-lab kept:" comment; --remove puts it back.\n',
    );
    expect((await run(['--remove'])).code).toBe(0);

    await writeFile(configPath, 'model_provider = "mine"\nchatgpt_base_url = "http://x/"\n');
    const two = await run(['--write']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain(
      'Your own model_provider and chatgpt_base_url are kept in that file as "# codex-lab kept:" comments; --remove puts them back.\n',
    );
    const removed = await run(['--remove']);
    expect(removed.stdout).toContain(
      'and put back your model_provider and chatgpt_base_url; Codex uses its own settings again.',
    );
    expect(await readFile(configPath, 'utf8')).toBe(
      'model_provider = "mine"\nchatgpt_base_url = "http://x/"\n',
    );
  });

  it("keeps the user's own keys, comments and sub-tables in an existing codex-lab table, and --remove sets them aside without breaking Codex", async () => {
    const own = [
      'model = "gpt-5.5"',
      'profile = "work"',
      '',
      '[model_providers.codex-lab]',
      '# router via my VPN',
      'name = "Codex Lab"',
      'base_url = "http://127.0.0.1:1456/backend-api/codex"',
      'wire_api = "responses"',
      'request_max_retries = 8 # be patient',
      'stream_idle_timeout_ms = 600000',
      'stream_max_retries = 10',
      '',
      '[model_providers.codex-lab.http_headers]',
      '"x-team" = "infra"',
      '',
      '[profiles.work]',
      'model = "o3"',
      '',
      '[projects."/home/x/repo"]',
      'trust_level = "trusted"',
      '',
    ].join('\n');
    await mkdir(codexHome, { recursive: true });
    await writeFile(configPath, own);

    const first = await run(['--write']);
    expect(first.code, first.stderr).toBe(0);
    const written = await readFile(configPath, 'utf8');
    for (const user of [
      '# router via my VPN\n',
      'request_max_retries = 8 # be patient\n',
      'stream_idle_timeout_ms = 600000\nstream_max_retries = 10\n',
      '[model_providers.codex-lab.http_headers]\n"x-team" = "infra"\n',
      'profile = "work"\n',
      '[profiles.work]\nmodel = "o3"\n',
    ]) {
      expect(written).toContain(user);
    }
    const provider = (parse(written)['model_providers'] as Record<string, Record<string, unknown>>)[
      'codex-lab'
    ]!;
    expect(provider['base_url']).toBe('http://127.0.0.1:4567/backend-api/codex');
    expect(provider).toMatchObject({ request_max_retries: 8, http_headers: { 'x-team': 'infra' } });
    expect(parse(written)['model_provider']).toBe('codex-lab');

    const second = await run(['--write']);
    expect(second.stdout).toBe(
      `${configPath} already sends Codex through Codex Lab; nothing changed.\n`,
    );
    expect(await readFile(configPath, 'utf8')).toBe(written);

    const removed = await run(['--remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(
      'Your own request_max_retries, stream_idle_timeout_ms, stream_max_retries and http_headers of the codex-lab provider are kept in that file as "# codex-lab kept:" comments (Codex refuses the provider without its name); --write puts them back.\n',
    );
    const left = await readFile(configPath, 'utf8');
    expect(parse(left)['model_providers']).toBeUndefined();
    expect(left).toContain('# codex-lab kept: request_max_retries = 8 # be patient\n');
  });

  const newestCodex = resolveCodexBins().codexes.at(-1);
  it.skipIf(newestCodex === undefined)(
    "sets the user's own name, base_url and auth table aside as kept comments that the real Codex loads, and --remove gives the file back byte for byte",
    async () => {
      const own = [
        '# codex-lab kept: a note of mine, not a line of Codex Lab',
        'model = "gpt-5.5"',
        '',
        '[model_providers.codex-lab]',
        'name = "Mine"',
        'base_url = "http://10.0.0.2:9000/backend-api/codex"',
        '',
        '[model_providers.codex-lab.auth]',
        'command = "my-token"',
        'cwd = "/srv"',
        '',
      ].join('\n');
      await mkdir(codexHome, { recursive: true });
      await writeFile(configPath, own);
      // `codex mcp list` loads config.toml and refuses a provider it cannot use (no name, an auth
      // table without its command): a cheap check that Codex starts with the file.
      const codexLoads = () =>
        spawnSync(newestCodex!.bin, ['mcp', 'list'], {
          env: { ...process.env, CODEX_HOME: codexHome },
          encoding: 'utf8',
          timeout: 30_000,
        });
      expect(codexLoads().status).toBe(0);

      const first = await run(['--write']);
      expect(first.code, first.stderr).toBe(0);
      const written = await readFile(configPath, 'utf8');
      for (const kept of [
        '# codex-lab kept: name = "Mine"\nname = "Codex Lab"\n',
        '# codex-lab kept: base_url = "http://10.0.0.2:9000/backend-api/codex"\nbase_url = "http://127.0.0.1:4567/backend-api/codex"\n',
        '# codex-lab kept: [model_providers.codex-lab.auth]\n# codex-lab kept: command = "my-token"\n',
      ]) {
        expect(written).toContain(kept);
      }
      expect(written.startsWith('# codex-lab kept: a note of mine')).toBe(true);
      const loaded = codexLoads();
      expect(loaded.status, loaded.stderr).toBe(0);
      expect((await run(['--write'])).stdout).toBe(
        `${configPath} already sends Codex through Codex Lab; nothing changed.\n`,
      );

      const removed = await run(['--remove']);
      expect(removed.code, removed.stderr).toBe(0);
      expect(await readFile(configPath, 'utf8')).toBe(own);
      expect(codexLoads().status).toBe(0);
      expect((await run(['--write'])).code).toBe(0);
      expect(await readFile(configPath, 'utf8')).toBe(written);
    },
  );

  it('creates a missing config.toml 0600 in a 0700 folder', async () => {
    const result = await run(['--write']);
    expect(result.code).toBe(0);
    expect((await stat(codexHome)).mode & 0o777).toBe(0o700);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    expect(parse(await readFile(configPath, 'utf8'))['model_provider']).toBe('codex-lab');
    expect(existsSync(`${configPath}.codex-lab-backup`)).toBe(false);
  });

  it('--remove deletes the config.toml --write created, backing nothing up, once nothing else is in it', async () => {
    expect((await run(['--write'])).code).toBe(0);
    const removed = await run(['--remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(
      `Took Codex Lab out of ${configPath} and deleted it: --write created it and nothing else is in it; Codex uses its own settings again.\n`,
    );
    expect(existsSync(configPath)).toBe(false);
    expect(existsSync(`${configPath}.codex-lab-backup`)).toBe(false);
    expect((await run(['--remove'])).stdout).toBe(
      `There is no ${configPath}; nothing to remove.\n`,
    );
  });

  it('--remove keeps a config.toml that holds anything else, or that was there (empty) before --write', async () => {
    // Created by --write, then Codex added a trust table: only our lines go.
    expect((await run(['--write'])).code).toBe(0);
    await writeFile(configPath, `${await readFile(configPath, 'utf8')}\n# mine\n`);
    expect((await run(['--remove'])).code).toBe(0);
    expect(await readFile(configPath, 'utf8')).toBe('\n# mine\n');
    await rm(configPath);

    // An empty file that was there: the backup says so, and the empty file stays.
    await writeFile(configPath, '');
    expect((await run(['--write'])).code).toBe(0);
    const removed = await run(['--remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Took Codex Lab out of ${configPath};`);
    expect(await readFile(configPath, 'utf8')).toBe('');
  });

  it('refuses a config.toml that does not parse, naming it, and writes nothing', async () => {
    await mkdir(codexHome, { recursive: true });
    const broken = 'model = "gpt-5.5"\n[projects\n';
    await writeFile(configPath, broken);
    for (const flag of ['--write', '--remove']) {
      const result = await run([flag]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^codex-lab: ${configPath.replaceAll('.', '\\.')} is not valid TOML \\(line 2, column \\d+\\): .*nothing was written\\)\\.$`,
        ),
      );
      expect(await readFile(configPath, 'utf8')).toBe(broken);
      expect(existsSync(`${configPath}.codex-lab-backup`)).toBe(false);
    }
  });

  it('refuses an edit that would not read back as the same settings, prints the block with where it goes, and writes nothing', async () => {
    await mkdir(codexHome, { recursive: true });
    // The user set our provider's name with a dotted key: appending our table would clash.
    const dotted =
      'model_providers.codex-lab.name = "mine"\n\n[projects."/r"]\ntrust_level = "trusted"\n';
    await writeFile(configPath, dotted);
    const result = await run(['--write']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/go at the TOP of config\.toml, before any/);
    expect(result.stdout).toContain('[model_providers.codex-lab]');
    expect(result.stderr).toBe(
      `codex-lab: ${configPath} could not be edited safely (the edited file would not read back as the same settings with only Codex Lab's changed), so nothing was written: add the block printed above by hand, its top-level lines at the top of the file, before any [table].\n`,
    );
    expect(await readFile(configPath, 'utf8')).toBe(dotted);
    expect(existsSync(`${configPath}.codex-lab-backup`)).toBe(false);
  });

  it('refuses a model_providers inline table, saying to write its providers as tables first', async () => {
    await mkdir(codexHome, { recursive: true });
    const inline = 'model_providers = { mine = { name = "Mine" } }\n';
    await writeFile(configPath, inline);
    const result = await run(['--write']);
    expect(result.code).toBe(1);
    // Adding the block by hand would not work either, so it is not printed.
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `codex-lab: ${configPath} sets model_providers as an inline table (model_providers = { … }), which TOML does not let the [model_providers.codex-lab] table add to, so nothing was written: write its providers as tables instead, at the end of the file ([model_providers.mine], each with its keys on the lines under it), then run --write again.\n`,
    );
    expect(await readFile(configPath, 'utf8')).toBe(inline);

    await writeFile(configPath, '[model_providers.mine]\nname = "Mine"\n');
    const advised = await run(['--write']);
    expect(advised.code, advised.stderr).toBe(0);
    expect(parse(await readFile(configPath, 'utf8'))['model_providers']).toMatchObject({
      mine: { name: 'Mine' },
      'codex-lab': { name: 'Codex Lab' },
    });
  });

  it('says in one sentence when CODEX_HOME is a file, not a folder', async () => {
    await writeFile(codexHome, 'not a folder\n');
    const result = await run(['--write']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `codex-lab: A folder above ${configPath} is a file, not a folder. Move that file away and try again.\n`,
    );
    expect(await readFile(codexHome, 'utf8')).toBe('not a folder\n');
  });

  it('edits the file a config.toml link points at (a dotfiles checkout), keeping the link', async () => {
    await mkdir(join(home, 'dotfiles'), { recursive: true });
    await mkdir(codexHome, { recursive: true });
    const target = join(home, 'dotfiles', 'codex.toml');
    await writeFile(target, trusted);
    await symlink(target, configPath);
    const result = await run(['--write']);
    expect(result.code, result.stderr).toBe(0);
    expect(await readlink(configPath)).toBe(target);
    expect(parse(await readFile(target, 'utf8'))['model_provider']).toBe('codex-lab');
  });

  it('leaves a config.toml that links to a missing file as it is, and says so', async () => {
    await mkdir(codexHome, { recursive: true });
    const target = join(home, 'dotfiles', 'codex.toml');
    await symlink(target, configPath);
    const result = await run(['--write']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `codex-lab: ${configPath} is a link to ${target}, which does not exist. It was left untouched: point it at the file or remove it, then try again.\n`,
    );
    expect(await readlink(configPath)).toBe(target);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses --write with --remove, and --remove with no file says so', async () => {
    const both = await run(['--write', '--remove']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'codex-lab: Give --write or --remove, not both: --write sets Codex up, --remove undoes it.\n',
    );
    const none = await run(['--remove']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`There is no ${configPath}; nothing to remove.\n`);
    expect(existsSync(configPath)).toBe(false);
  });

  it('prints the block, by hand, with a note that its first lines go before any [table]', async () => {
    const printed = await run([]);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n');
    const first = lines.findIndex((line) => line.startsWith('model_provider ='));
    expect(lines.slice(0, first).join('\n')).toMatch(/go at the TOP of config\.toml, before any/);
    expect(printed.stdout).toContain('codex-lab codex-config --write');
    expect(existsSync(configPath)).toBe(false);
  });
});
