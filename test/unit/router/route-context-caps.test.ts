/**
 * Model, repository and session strings are capped in bytes before they reach the session and
 * bucket tables (issue 9, item 8): 80 requests with 8 MB model names once grew the heap by 1.3 GB.
 */
import { describe, expect, it } from 'vitest';
import {
  extractRouteContext,
  maxModelBytes,
  maxRepoBytes,
} from '../../../core/router/route-context.ts';
import { BucketMap, SessionTable } from '../../../core/router/sessions.ts';
import { systemClock } from '../../../core/ports.ts';

const huge = 'm'.repeat(8 * 1024 * 1024);

describe('route context caps', () => {
  it('drops a model, repo or session id longer than its cap, in bytes', () => {
    const metadata = JSON.stringify({ workspaces: { [`/${'r'.repeat(maxRepoBytes)}`]: {} } });
    const context = extractRouteContext(
      { session_id: 'é'.repeat(200), 'x-codex-turn-metadata': metadata },
      { model: huge, prompt_cache_key: 'ok' },
    );
    expect(context.model).toBeNull();
    expect(context.repo).toBeNull();
    // 200 "é" are 400 bytes: too long a session header, so the prompt cache key is used.
    expect(context.sessionId).toBe('ok');
    // Multi-byte text is measured in bytes, not characters.
    expect(extractRouteContext({}, { model: '模'.repeat(100) }).model).toBeNull();
    expect(extractRouteContext({}, { model: 'gpt-5.5' }).model).toBe('gpt-5.5');
    expect(extractRouteContext({}, { model: 'x'.repeat(maxModelBytes) }).model).toHaveLength(
      maxModelBytes,
    );
  });

  it('keeps the tables small under 80 requests with 8 MB model names', () => {
    const sessions = new SessionTable({ clock: systemClock, idleTtlMs: 3600_000 });
    const buckets = new BucketMap({ clock: systemClock });
    const before = process.memoryUsage().heapUsed;
    for (let request = 0; request < 80; request += 1) {
      // Each name is a distinct 8 MB string, as distinct request bodies would be.
      const context = extractRouteContext(
        {},
        { model: `${huge}${request}`, prompt_cache_key: `s${request}` },
      );
      sessions.record(context.sessionId!, {
        profile: 'alice',
        route: 'best',
        repo: context.repo,
        model: context.model,
        pinned: null,
      });
      buckets.set(context.repo, context.model, 'alice');
    }
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });
});
