/**
 * A follow-up turn is recognised as extending the previous one from its bytes (a prefix compare,
 * only the new items parsed), and never when anything but the new items and `client_metadata`
 * differs.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  bodyLayout,
  completedResponseId,
  extensionOf,
  fullFrameOf,
} from '../../../core/proxy/incremental-input.ts';

const item = (text: string) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});

/** A body in Codex's field order (client_metadata last). */
function body(input: unknown[], turn: number, fields: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      input,
      tool_choice: 'auto',
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 's1',
      ...fields,
      client_metadata: { turn_id: `t${turn}`, 'x-codex-turn-metadata': `{"turn":${turn}}` },
    }),
  );
}

const history = [
  item('first "quoted" \\ text'),
  { type: 'reasoning', encrypted_content: 'gAAA]}' },
];
const answer = {
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'ok' }],
};

describe('bodyLayout and extensionOf', () => {
  it('reads a follow-up as the previous input plus the new items, with its client_metadata', () => {
    const layout = bodyLayout(body(history, 1))!;
    expect(layout).not.toBeNull();
    const next = body([...history, answer, item('second')], 2);
    const extension = extensionOf(layout, next)!;
    expect(extension.added).toEqual([answer, item('second')]);
    expect(extension.clientMetadata).toEqual({
      turn_id: 't2',
      'x-codex-turn-metadata': '{"turn":2}',
    });
    // And the turn after: the layout carries over without a full scan.
    const third = body([...history, answer, item('second'), answer, item('third')], 3);
    expect(extensionOf(extension.layout, third)?.added).toEqual([answer, item('third')]);
    // Nothing new at all is an extension with no items.
    expect(extensionOf(layout, body(history, 9))?.added).toEqual([]);
  });

  it('parses only the new items and client_metadata of a 300 KB follow-up', () => {
    const long = Array.from({ length: 300 }, (_, index) => item(`${index}: ${'x'.repeat(1000)}`));
    const layout = bodyLayout(body(long, 1))!;
    const next = body([...long, answer, item('second')], 2);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(extensionOf(layout, next)?.added).toHaveLength(2);
      const parsed = parse.mock.calls.map(([text]) => String(text).length);
      expect(parsed.length).toBeGreaterThan(0);
      expect(Math.max(...parsed)).toBeLessThan(500);
      expect(next.length).toBeGreaterThan(300_000);
    } finally {
      parse.mockRestore();
    }
  });

  it.each([
    ['another model', body([...history, answer], 2, { model: 'gpt-5' })],
    ['an extra field', body([...history, answer], 2, { text: { verbosity: 'low' } })],
    ['an earlier item changed', body([item('first'), history[1], answer], 2)],
    ['an item removed', body([history[0], answer], 2)],
    ['a shorter history', body([history[0]], 2)],
    [
      'not JSON after the prefix',
      Buffer.concat([body(history, 1).subarray(0, 80), Buffer.from(',{]')]),
    ],
    [
      'no client_metadata',
      Buffer.from(
        JSON.stringify({ model: 'gpt-6.2-sol', stream: true, input: [...history, answer] }),
      ),
    ],
  ])('is not an extension: %s', (_name, next) => {
    expect(extensionOf(bodyLayout(body(history, 1))!, next)).toBeNull();
  });

  it.each([
    ['not an object', Buffer.from('[1,2]')],
    ['not JSON', Buffer.from('{"input":[1,2')],
    ['no input', Buffer.from('{"model":"m"}')],
    ['input not an array', Buffer.from('{"input":"text"}')],
    ['an escaped key', Buffer.from('{"input":[1],"inp\\u0075t":[2]}')],
    ['input twice', Buffer.from('{"input":[1],"input":[2]}')],
  ])('has no layout: %s', (_name, raw) => {
    expect(bodyLayout(raw)).toBeNull();
  });

  it('reads a follow-up that arrived in chunks, cut anywhere, as it reads the body whole', () => {
    const second = body([...history, answer, item('second')], 2);
    const third = body([...history, answer, item('second'), answer, item('third')], 3);
    const whole = extensionOf(extensionOf(bodyLayout(body(history, 1))!, second)!.layout, third)!;
    const cutsOf = (bytes: Buffer, every: number) =>
      Array.from({ length: Math.ceil(bytes.length / every) }, (_, index) =>
        bytes.subarray(index * every, (index + 1) * every),
      );
    for (const every of [1, 7, 64, 100, second.length]) {
      // Each turn's layout keeps the chunks it came in; the next turn compares against them.
      const extension = extensionOf(bodyLayout(body(history, 1))!, cutsOf(second, every))!;
      expect(extension.added).toEqual([answer, item('second')]);
      const after = extensionOf(extension.layout, cutsOf(third, every + 3))!;
      expect(after.added).toEqual(whole.added);
      expect(after.clientMetadata).toEqual(whole.clientMetadata);
      expect(after.layout.inputClose).toBe(whole.layout.inputClose);
      expect(after.layout.metadataAt).toBe(whole.layout.metadataAt);
      expect(after.layout.tail.equals(whole.layout.tail)).toBe(true);
    }
    // A difference inside the compared prefix is found across chunk boundaries too.
    const changed = Buffer.from(second);
    changed[20] = changed[20]! ^ 1;
    expect(extensionOf(bodyLayout(body(history, 1))!, cutsOf(changed, 7))).toBeNull();
  });

  it('accepts an extension only when the parsed bodies agree, over 2 000 generated follow-ups', () => {
    let state = 5;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    let accepted = 0;
    for (let round = 0; round < 2000; round += 1) {
      const previous = body(history, 1);
      const text = body([...history, answer, item(`turn ${round}`)], 2).toString();
      // Mutate one byte somewhere (or nothing), the way a real difference would show.
      const mutated = mutateOneByte(text, next);
      const bytes = Buffer.from(mutated);
      const extension = extensionOf(bodyLayout(previous)!, bytes);
      // The same body in three chunks cut anywhere (empty ones too) gets the same answer.
      const [cut, secondCut] = [next(), next()]
        .map((f) => Math.floor(f * bytes.length))
        .sort((left, right) => left - right);
      const chunked = extensionOf(bodyLayout(previous)!, [
        bytes.subarray(0, cut),
        bytes.subarray(cut, secondCut),
        bytes.subarray(secondCut),
      ]);
      expect(chunked?.added ?? null).toEqual(extension?.added ?? null);
      expect(chunked?.clientMetadata).toEqual(extension?.clientMetadata);
      if (extension === null) continue;
      accepted += 1;
      const before = JSON.parse(previous.toString()) as Record<string, unknown>;
      const after = JSON.parse(mutated) as Record<string, unknown>;
      expect(after['input']).toEqual([...(before['input'] as unknown[]), ...extension.added]);
      expect(after['client_metadata']).toEqual(extension.clientMetadata);
      const { input: _a, client_metadata: _b, ...fieldsBefore } = before;
      const { input: _c, client_metadata: _d, ...fieldsAfter } = after;
      expect(fieldsAfter).toEqual(fieldsBefore);
    }
    expect(accepted).toBeGreaterThan(600);
  });
});

describe('fullFrameOf', () => {
  it('splices a full response.create from the body: the same JSON as parsing it would give', () => {
    const raw = body([...history, answer, item('trailing \\\\"x\\\\')], 3, { background: false });
    const full = fullFrameOf(raw)!;
    // Every member but `background` (native Codex's frames keep `stream: true`).
    const {
      input,
      background: _background,
      ...fields
    } = JSON.parse(raw.toString()) as Record<string, unknown>;
    expect(JSON.parse(full.frame.toString())).toEqual({
      type: 'response.create',
      ...fields,
      input,
    });
    expect(full.fields).toEqual(fields);
    // The input's bytes are the body's own, not a re-serialization.
    const layout = bodyLayout(raw)!;
    expect(full.frame.includes(raw.subarray(layout.inputOpen, layout.inputClose + 1))).toBe(true);
    expect(full.layout).toEqual(layout);
  });

  it('adds the frame’s own metadata to the body’s client_metadata, and leaves the input’s bytes alone', () => {
    const raw = body(history, 2);
    const extra = { ws_request_header_x_openai_internal_codex_responses_lite: 'true' };
    const full = fullFrameOf(raw, extra)!;
    const parsed = JSON.parse(full.frame.toString()) as Record<string, unknown>;
    expect(parsed['client_metadata']).toEqual({
      turn_id: 't2',
      'x-codex-turn-metadata': '{"turn":2}',
      ...extra,
    });
    expect(full.fields['client_metadata']).toEqual(parsed['client_metadata']);
    expect(parsed['input']).toEqual(JSON.parse(raw.toString()).input);
    const layout = bodyLayout(raw)!;
    expect(full.frame.includes(raw.subarray(layout.inputOpen, layout.inputClose + 1))).toBe(true);
    // A body without client_metadata gets one holding only the frame's own.
    const without = Buffer.from(JSON.stringify({ model: 'gpt-6.2-sol', input: history }));
    const bare = JSON.parse(fullFrameOf(without, extra)!.frame.toString());
    expect(bare['client_metadata']).toEqual(extra);
    // Nothing to add: the body's bytes as they are.
    expect(fullFrameOf(raw, {})!.frame.toString()).toBe(fullFrameOf(raw)!.frame.toString());
  });

  it('leaves to a full parse a body the frame cannot splice', () => {
    // A member the frame sets itself, a repeated key, an escaped key, no input array, not JSON.
    expect(fullFrameOf(body(history, 1, { type: 'x' }))).toBeNull();
    expect(fullFrameOf(body(history, 1, { previous_response_id: 'resp_1' }))).toBeNull();
    expect(fullFrameOf(Buffer.from('{"model":"a","input":[],"model":"b"}'))).toBeNull();
    expect(fullFrameOf(Buffer.from('{"mod\\u0065l":"a","input":[]}'))).toBeNull();
    expect(fullFrameOf(Buffer.from('{"model":"a","input":{}}'))).toBeNull();
    expect(fullFrameOf(Buffer.from('{"model":"a","input":["unterminated]}'))).toBeNull();
    expect(fullFrameOf(Buffer.from('{"model":tru,"input":[]}'))).toBeNull();
  });
});

describe('completedResponseId', () => {
  const event = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('reads the top-level response id whatever the members around it', () => {
    const response = { id: 'resp_1', object: 'response', output: [answer], usage: { a: 1 } };
    expect(completedResponseId(event({ type: 'response.completed', response }))).toBe('resp_1');
    // sequence_number last, id not the response's first member, a decoy nested deeper first.
    const decoy = { response: { id: 'resp_wrong' }, text: '"response":{"id":"resp_quoted"}' };
    const later = {
      type: 'response.completed',
      item: decoy,
      response: { object: 'response', tools: [{ name: 'x', id: 'tool' }], id: 'resp_2' },
      sequence_number: 9,
    };
    expect(completedResponseId(event(later))).toBe('resp_2');
    expect(completedResponseId(Buffer.from(` { "response" : { "id" : "resp_3" } } `))).toBe(
      'resp_3',
    );
  });

  it('leaves to a parse what it cannot read plainly', () => {
    expect(completedResponseId(event({ type: 'x', response: { id: 'a\\"b' } }))).toBeNull();
    expect(completedResponseId(event({ type: 'x', response: { id: 7 } }))).toBeNull();
    expect(completedResponseId(event({ type: 'x', response: null }))).toBeNull();
    expect(completedResponseId(event({ type: 'x' }))).toBeNull();
    expect(completedResponseId(event(['response', { id: 'a' }]))).toBeNull();
    expect(completedResponseId(Buffer.from('{"response":{"id":"unterminated}}'))).toBeNull();
  });

  it('agrees with JSON.parse on 2 000 generated events', () => {
    let state = 11;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let round = 0; round < 2000; round += 1) {
      const text = JSON.stringify({
        type: 'response.completed',
        response: { id: `resp_${round}`, output: [answer, item(`"id":"no" ${round}`)] },
        sequence_number: round,
      });
      // One byte changed somewhere (or nothing): whatever is read must be what a parse reads.
      const mutated = mutateOneByte(text, next);
      const read = completedResponseId(Buffer.from(mutated));
      if (read === null) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(mutated);
      } catch {
        // Read from bytes that are not JSON: only acceptable past the id (the relay judges the
        // rest), and the id read must be the one the intact event carried.
        expect(read).toBe(`resp_${round}`);
        continue;
      }
      expect(read).toBe((parsed as { response: { id: string } }).response.id);
    }
  });
});

/** `text` with one character replaced by a printable one at a random place, or (30 %) as it is. */
function mutateOneByte(text: string, next: () => number): string {
  const at = Math.floor(next() * text.length);
  if (next() < 0.3) return text;
  return text.slice(0, at) + String.fromCharCode(32 + Math.floor(next() * 90)) + text.slice(at + 1);
}
