import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCompletedUsage, UsageTap } from '../../../core/proxy/usage-tap.ts';

const completed = (usage: object, padding = '') =>
  `event: response.completed\ndata: ${JSON.stringify({
    type: 'response.completed',
    response: {
      id: 'resp_1',
      output: [
        { type: 'message', content: [{ type: 'output_text', text: `say "usage": {${padding}` }] },
      ],
      usage,
      metadata: {},
    },
  })}\n\n`;

const usage = {
  input_tokens: 1200,
  input_tokens_details: { cached_tokens: 800 },
  output_tokens: 42,
  output_tokens_details: { reasoning_tokens: 7 },
  total_tokens: 1242,
};

describe('UsageTap', () => {
  it('reads response.completed usage from the tail of a stream cut into odd chunks', async () => {
    const text = `event: response.created\ndata: {"type":"response.created"}\n\n${'event: response.output_text.delta\ndata: {"delta":"xx"}\n\n'.repeat(3000)}${completed(usage, 'y'.repeat(50_000))}`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 777) {
      chunks.push(bytes.subarray(offset, offset + 777));
    }
    const body = Readable.from(chunks);
    const tap = new UsageTap();
    body.on('data', tap.push);
    await new Promise((resolve) => body.on('end', resolve));
    expect(tap.usage()).toEqual({ input: 1200, output: 42, cached: 800, reasoning: 7 });
  });

  it('reads the usage at any cut: the key or its object split over the last chunks', () => {
    const bytes = Buffer.from(completed(usage));
    const key = bytes.lastIndexOf('"usage":');
    // Every cut from well before the key to the end of the usage object.
    for (let cut = key - 20; cut < key + 120; cut += 1) {
      const tap = new UsageTap();
      tap.push(bytes.subarray(0, cut));
      tap.push(bytes.subarray(cut));
      expect(tap.usage(), `cut at ${cut - key}`).toEqual({
        input: 1200,
        output: 42,
        cached: 800,
        reasoning: 7,
      });
    }
  });

  it('is null without a completed event or with a broken one', () => {
    expect(parseCompletedUsage('event: response.created\ndata: {}\n\n')).toBeNull();
    expect(
      parseCompletedUsage('event: response.completed\ndata: {"usage":{"input_tokens":'),
    ).toBeNull();
    expect(parseCompletedUsage(completed({}))).toEqual({
      input: 0,
      output: 0,
      cached: 0,
      reasoning: 0,
    });
  });
});

describe('UsageTap.ending', () => {
  const event = (type: string) => `event: ${type}\ndata: ${JSON.stringify({ type })}\n\n`;
  const tapOf = (...chunks: string[]) => {
    const tap = new UsageTap();
    for (const chunk of chunks) tap.push(Buffer.from(chunk));
    return tap;
  };

  it('is null for a stream that ended with its last event', () => {
    expect(tapOf(event('response.created'), completed(usage)).ending()).toBeNull();
    expect(tapOf(event('response.created'), event('response.incomplete')).ending()).toBeNull();
  });

  it('says an error event ended it, and a stream that stopped before its last event was cut', () => {
    expect(tapOf(event('response.created'), event('response.failed')).ending()).toBe(
      'upstream_error',
    );
    expect(tapOf(event('response.created'), event('error')).ending()).toBe('upstream_error');
    expect(tapOf(event('response.created'), event('response.output_text.delta')).ending()).toBe(
      'upstream_cut',
    );
  });

  it('reads the last event of a chunk holding several, as the stream usually comes', () => {
    expect(tapOf(event('response.created') + completed(usage)).ending()).toBeNull();
    expect(tapOf(event('response.created') + event('response.output_text.delta')).ending()).toBe(
      'upstream_cut',
    );
    expect(
      tapOf(
        'event: response.created\r\ndata: {}\r\n\r\nevent: response.failed\r\ndata: {}\r\n\r\n',
      ).ending(),
    ).toBe('upstream_error');
  });

  it('claims nothing when the tail holds no event’s start, or no stream came', () => {
    expect(tapOf(completed(usage, 'x'.repeat(80 * 1024)).slice(30)).ending()).toBeNull();
    expect(new UsageTap().ending()).toBeNull();
  });
});
