import { describe, expect, it } from 'vitest';
import {
  buildUsageRequest,
  processUsageResponse,
  usageResponseFromSnapshot,
  usageResponseSchema,
} from '../../../core/quota/usage.ts';
import type { QuotaSnapshot } from '../../../core/state/schema.ts';

const now = Date.UTC(2026, 0, 5, 12);
const nowSeconds = now / 1000;

/** A real-shaped `wham/usage` answer (research §7, peers §0.1). */
const usage = {
  plan_type: 'plus',
  rate_limit: {
    allowed: true,
    limit_reached: false,
    primary_window: {
      used_percent: 25,
      limit_window_seconds: 18000,
      reset_after_seconds: 3600,
      reset_at: nowSeconds + 3600,
    },
    secondary_window: {
      used_percent: 61,
      limit_window_seconds: 604801,
      reset_after_seconds: 9,
      reset_at: nowSeconds + 86400,
    },
  },
  credits: {
    has_credits: true,
    unlimited: false,
    balance: '150',
    approx_local_messages: [1, 2],
    approx_cloud_messages: null,
  },
  additional_rate_limits: [
    {
      limit_name: 'GPT-5.3-Codex-Spark',
      metered_feature: 'codex_bengalfox',
      rate_limit: {
        allowed: true,
        limit_reached: false,
        primary_window: {
          used_percent: 3,
          limit_window_seconds: 18000,
          reset_after_seconds: 1,
          reset_at: nowSeconds + 60,
        },
        secondary_window: null,
      },
    },
  ],
  rate_limit_reached_type: null,
};

describe('buildUsageRequest', () => {
  it.each([
    [undefined, 'https://chatgpt.com/backend-api/wham/usage'],
    ['', 'https://chatgpt.com/backend-api/wham/usage'],
    ['https://chatgpt.com/backend-api/', 'https://chatgpt.com/backend-api/wham/usage'],
    ['http://127.0.0.1:9999/backend-api//', 'http://127.0.0.1:9999/backend-api/wham/usage'],
  ])('base %j → %s', (base, url) => {
    expect(buildUsageRequest(base, { accessToken: 'tok', accountId: null }).url).toBe(url);
  });

  it('sends the bearer token and the account id when known', () => {
    const headers = buildUsageRequest(null, { accessToken: 'tok', accountId: 'acct-1' }).headers;
    expect(headers).toMatchObject({
      authorization: 'Bearer tok',
      accept: 'application/json',
      'chatgpt-account-id': 'acct-1',
      // Codex's identity, not an HTTP library's defaults.
      originator: 'codex_cli_rs',
    });
    expect(headers['user-agent']).toMatch(/^codex_cli_rs\/\d+\.\d+\.\d+ \(.+\) codex-lab$/);
    expect(
      buildUsageRequest(null, { accessToken: 'tok', accountId: null }).headers,
    ).not.toHaveProperty('chatgpt-account-id');
  });
});

describe('processUsageResponse', () => {
  it('maps like Codex: minutes ceil, reset seconds → ms, additional limits → others', () => {
    expect(processUsageResponse(usage, now)).toEqual({
      observedAt: now,
      source: 'usage',
      plan: 'plus',
      primary: { usedPercent: 25, windowMinutes: 300, resetsAt: now + 3_600_000 },
      secondary: { usedPercent: 61, windowMinutes: 10081, resetsAt: now + 86_400_000 },
      credits: { hasCredits: true, unlimited: false, balance: '150' },
      activeLimit: null,
      limitReached: false,
      others: [
        {
          limitId: 'codex_bengalfox',
          limitName: 'GPT-5.3-Codex-Spark',
          primary: { usedPercent: 3, windowMinutes: 300, resetsAt: now + 60_000 },
          secondary: null,
        },
      ],
    });
  });

  it('tolerates nulls everywhere (a Team account without the account id answers like this)', () => {
    const snapshot = processUsageResponse(
      { plan_type: 'free', rate_limit: null, credits: null, additional_rate_limits: null },
      now,
    );
    expect(snapshot).toMatchObject({
      plan: 'free',
      primary: null,
      secondary: null,
      credits: null,
      others: [],
    });
  });

  it('tolerates a missing 5-hour window and junk parts', () => {
    const snapshot = processUsageResponse(
      {
        plan_type: 7,
        rate_limit: {
          primary_window: null,
          secondary_window: { used_percent: 10, limit_window_seconds: 0, reset_at: null },
        },
        credits: 'lots',
        additional_rate_limits: [null, 'junk'],
      },
      now,
    );
    expect(snapshot).toMatchObject({
      plan: null,
      primary: null,
      secondary: { usedPercent: 10, windowMinutes: null, resetsAt: null },
      credits: null,
      others: [],
    });
  });

  it.each([null, 'text', 42, [1]])('rejects a body of %j with upstream_error', (body) => {
    expect(() => processUsageResponse(body, now)).toThrow(
      expect.objectContaining({ code: 'upstream_error' }),
    );
  });
});

describe('usageResponseFromSnapshot', () => {
  it('round-trips through processUsageResponse', () => {
    const snapshot = processUsageResponse(usage, now);
    const rendered = usageResponseFromSnapshot(snapshot, now);
    expect(usageResponseSchema.safeParse(rendered).success).toBe(true);
    const again = processUsageResponse(rendered, now);
    expect(again.primary).toEqual(snapshot.primary);
    expect(again.secondary).toEqual({ ...snapshot.secondary, windowMinutes: 10081 });
    expect(again.credits).toEqual(snapshot.credits);
    expect(again.others).toEqual(snapshot.others);
    expect(rendered).toMatchObject({
      plan_type: 'plus',
      rate_limit: {
        allowed: true,
        limit_reached: false,
        primary_window: {
          used_percent: 25,
          limit_window_seconds: 18000,
          reset_after_seconds: 3600,
        },
      },
    });
  });

  it('renders integers Codex can read and marks an exhausted window as reached', () => {
    const snapshot: QuotaSnapshot = {
      observedAt: now,
      source: 'headers',
      plan: null,
      primary: null,
      secondary: { usedPercent: 100, windowMinutes: 10080, resetsAt: now + 1500 },
      credits: null,
      activeLimit: null,
      limitReached: null,
      others: [],
    };
    const rendered = usageResponseFromSnapshot(snapshot, now) as {
      rate_limit: {
        limit_reached: boolean;
        allowed: boolean;
        primary_window: unknown;
        secondary_window: Record<string, number>;
      };
      plan_type: string;
      rate_limit_reached_type: unknown;
    };
    expect(rendered.plan_type).toBe('unknown');
    expect(rendered.rate_limit.primary_window).toBeNull();
    expect(rendered.rate_limit).toMatchObject({ allowed: false, limit_reached: true });
    expect(rendered.rate_limit_reached_type).toEqual({ type: 'rate_limit_reached' });
    for (const value of Object.values(rendered.rate_limit.secondary_window)) {
      expect(Number.isInteger(value)).toBe(true);
    }
    expect(rendered.rate_limit.secondary_window.reset_after_seconds).toBe(2);
  });

  it('renders an empty report for an unknown profile', () => {
    expect(usageResponseFromSnapshot(null, now)).toMatchObject({
      plan_type: 'unknown',
      rate_limit: null,
    });
  });
});
