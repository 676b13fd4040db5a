import { describe, expect, it } from 'vitest';
import { routerStartTimeoutMs } from '../../../core/config.ts';
import {
  codexConfigBlock,
  codexOverrides,
  codexProviderId,
  profileHeader,
  runHeader,
  tokenRefreshIntervalMs,
} from '../../../core/proxy/codex-config.ts';
import { parse as parseTomlDocument } from 'smol-toml';
import { overridesTable, type TomlTable } from '../../helpers/codex-overrides.ts';

describe('the Codex provider', () => {
  // Threads record their provider id, and Codex refuses another on resume: the overrides of
  // `codex-lab codex` and the pasted block must register one provider, key for key.
  for (const target of [
    { routerUrl: 'http://127.0.0.1:1456', launcher: ['codex-lab'], home: null },
    {
      routerUrl: 'http://127.0.0.1:4567/backend-api',
      launcher: ['/opt/node/bin/node', '/opt/codex lab/bin/codex-lab.mjs'],
      home: '/home/me/.other "lab"',
    },
  ]) {
    it(`is the same in the -c overrides and the config.toml block (${target.routerUrl})`, () => {
      const fromBlock = parseTomlDocument(codexConfigBlock(target));
      const fromOverrides = overridesTable(codexOverrides(target));
      // The overrides are the block and one run's headers, which Codex reads from the
      // environment of the Codex process `codex-lab codex` starts.
      const runProvider = (fromOverrides['model_providers'] as TomlTable)[
        codexProviderId
      ] as TomlTable;
      expect(runProvider['env_http_headers']).toEqual({
        [profileHeader]: 'CODEX_LAB_PROFILE',
        [runHeader]: 'CODEX_LAB_RUN',
      });
      delete runProvider['env_http_headers'];
      expect(fromOverrides).toEqual(fromBlock);
      expect(fromBlock['model_provider']).toBe(codexProviderId);
      const providers = fromBlock['model_providers'] as TomlTable;
      expect(Object.keys(providers)).toEqual([codexProviderId]);
      const provider = providers[codexProviderId] as TomlTable;
      // No token travels through Codex's environment: command-backed auth only.
      expect(provider['env_key']).toBeUndefined();
      expect(provider['supports_standalone_web_search']).toBe(true);
      // Nothing from an environment in the block: Codex's shared background server would take it
      // from whichever shell started it, for every session of every shell.
      expect(provider['env_http_headers']).toBeUndefined();
      expect(provider['http_headers']).toBeUndefined();
      const [command, ...leading] = target.launcher;
      const port = new URL(target.routerUrl).port;
      expect(provider['auth']).toEqual({
        command,
        args: [
          ...leading,
          'token',
          '--ensure-router',
          ...(target.home === null ? [] : ['--home', target.home]),
          ...(port === '1456' ? [] : ['--port', port]),
        ],
        // Longer than a router's start in the background (Codex's own limit is 5 s).
        timeout_ms: routerStartTimeoutMs + 5_000,
        // Not Codex's 5 minutes: its background server outlives the router.
        refresh_interval_ms: tokenRefreshIntervalMs,
      });
    });
  }

  it('pins with a literal header when the overrides are given a profile', () => {
    const table = overridesTable(
      codexOverrides({ routerUrl: 'http://127.0.0.1:1456', profile: 'work' }),
    );
    const provider = (table['model_providers'] as TomlTable)[codexProviderId] as TomlTable;
    expect(provider['http_headers']).toEqual({ [profileHeader]: 'work' });
    // The environment cannot pin another profile over the literal one.
    expect(provider['env_http_headers']).toEqual({ [runHeader]: 'CODEX_LAB_RUN' });
  });
});
