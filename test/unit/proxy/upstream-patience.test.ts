/**
 * The router never gives up on a live upstream before Codex would: a turn whose head (or next
 * event) takes longer than the router waits is cut by the router while Codex would still wait.
 */
import { describe, expect, it } from 'vitest';
import { codexStreamIdleMs, upstreamPoolOptions } from '../../../core/proxy/server.ts';

describe('the upstream pool', () => {
  it('waits for a turn’s head at least as long as Codex waits on its stream', () => {
    expect(upstreamPoolOptions().headersTimeout).toBeGreaterThanOrEqual(codexStreamIdleMs);
  });

  it('waits between a turn’s events at least as long as Codex does', () => {
    expect(upstreamPoolOptions().bodyTimeout).toBeGreaterThanOrEqual(codexStreamIdleMs);
  });
});
