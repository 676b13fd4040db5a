/** Account-bound ciphertext: the owner record, the strip rules, the rejection matcher, the SSE tap. */
import { describe, expect, it, onTestFinished } from 'vitest';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import {
  CiphertextOwners,
  ciphertextDigest,
  createCiphertextTap,
  isCiphertextRejection,
  stripAllCiphertext,
  stripCiphertext,
} from '../../../core/proxy/ciphertext.ts';

const blobA = `gAAAAA${'a'.repeat(200)}.macA${'1'.repeat(40)}`;
const blobB = `gAAAAA${'b'.repeat(200)}.macB${'2'.repeat(40)}`;

function history(): Record<string, unknown> {
  return {
    model: 'gpt-6.2-sol',
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one' }] },
      { type: 'reasoning', id: 'rs_a', summary: [], encrypted_content: blobA },
      {
        type: 'reasoning',
        id: 'rs_b',
        summary: [{ type: 'summary_text', text: 'thought' }],
        encrypted_content: blobB,
      },
      { type: 'compaction', encrypted_content: blobA },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'two' }] },
    ],
  };
}

describe('CiphertextOwners', () => {
  it('needs no rewrite while every blob of the session is the serving profile’s own', () => {
    const owners = new CiphertextOwners();
    owners.record('s', 'alpha', blobA);
    expect(owners.hasForeign('s', 'alpha')).toBe(false);
    expect(owners.hasForeign('s', 'beta')).toBe(true);
    expect(owners.hasForeign('unknown', 'beta')).toBe(false);
    expect(owners.hasForeign(null, 'beta')).toBe(false);
    expect(owners.ownerOf('s', blobA)).toBe('alpha');
    expect(owners.ownerOf('s', blobB)).toBeUndefined();
  });

  it('stays within its bounds and follows a rename', () => {
    const owners = new CiphertextOwners({ maxSessions: 2, maxBlobsPerSession: 2 });
    owners.record('s1', 'alpha', blobA);
    owners.record('s1', 'beta', blobB);
    owners.record('s1', 'beta', `${blobB}x`);
    // The oldest blob (alpha's) was forgotten: nothing of alpha's is left in s1.
    expect(owners.hasForeign('s1', 'beta')).toBe(false);
    owners.record('s2', 'alpha', blobA);
    owners.record('s3', 'alpha', blobA);
    expect(owners.ownerOf('s1', blobB)).toBeUndefined();
    owners.reassign('alpha', 'gamma');
    expect(owners.ownerOf('s3', blobA)).toBe('gamma');
    owners.reassign('gamma', null);
    expect(owners.hasForeign('s3', 'beta')).toBe(false);
  });

  it('takes no unseen blob for a profile the upstream refused one, and keeps what it saw it mint', () => {
    const owners = new CiphertextOwners();
    owners.presume('s', 'beta');
    owners.record('s', 'beta', blobB);
    expect(owners.hasForeign('s', 'beta')).toBe(false);
    expect(owners.mayCarry('s', 'beta', blobA)).toBe(true);
    // beta was refused the session's unseen blob: the presumption was wrong.
    owners.disownUnseen('s', 'beta');
    expect(owners.hasForeign('s', 'beta')).toBe(true);
    expect(owners.mayCarry('s', 'beta', blobA)).toBe(false);
    expect(owners.mayCarry('s', 'beta', blobB)).toBe(true);
    expect(owners.minted('s', 'beta', blobB)).toBe(true);
    expect(owners.minted('s', 'beta', blobA)).toBe(false);
    // Another profile is not judged by beta's refusal; a rename carries it, a removal ends it.
    expect(owners.mayCarry('s', 'gamma', blobA)).toBe(true);
    owners.reassign('beta', 'delta');
    expect(owners.mayCarry('s', 'delta', blobA)).toBe(false);
    expect(owners.mayCarry('s', 'delta', blobB)).toBe(true);
    owners.reassign('delta', null);
    expect(owners.hasForeign('s', 'delta')).toBe(false);
    expect(stripCiphertext(history(), (blob) => owners.mayCarry('s', 'delta', blob))).toBeNull();
  });

  it('presumes the one profile that answered a session before a restart owns its unseen blobs', () => {
    const owners = new CiphertextOwners();
    owners.presume('s', 'alpha');
    // Back on alpha: its own history passes byte-exact; moved to beta, it is stripped up front.
    expect(owners.hasForeign('s', 'alpha')).toBe(false);
    expect(owners.hasForeign('s', 'beta')).toBe(true);
    expect(owners.ownerOf('s', blobA)).toBe('alpha');
    // What this process sees minted wins over the presumption.
    owners.record('s', 'beta', blobB);
    expect(owners.ownerOf('s', blobB)).toBe('beta');
    expect(owners.ownerOf('s', blobA)).toBe('alpha');
    // A session already seen minting here is not overwritten by a presumption.
    owners.record('t', 'beta', blobB);
    owners.presume('t', 'alpha');
    expect(owners.ownerOf('t', blobA)).toBeUndefined();
    // The presumption follows a rename and goes with a removal.
    owners.reassign('alpha', 'gamma');
    expect(owners.ownerOf('s', blobA)).toBe('gamma');
    owners.reassign('gamma', null);
    expect(owners.ownerOf('s', blobA)).toBeUndefined();
  });
  it('knows again, from the digests `record` returned, whose each blob is after a restart', () => {
    const before = new CiphertextOwners();
    const digestA = before.record('s', 'alpha', blobA);
    const digestB = before.record('s', 'beta', blobB);
    expect(digestA).toBe(ciphertextDigest(blobA));
    expect(digestA).toMatch(/^[\w-]{16}$/);
    expect(digestA).not.toBe(digestB);
    // Nothing of the blob is in its digest.
    expect(blobA).not.toContain(digestA);

    const after = new CiphertextOwners({ maxBlobsPerSession: 3 });
    after.restore('s', 'alpha', [digestA, 'not a digest', 42]);
    after.restore('s', 'beta', [digestB]);
    expect(after.ownerOf('s', blobA)).toBe('alpha');
    expect(after.ownerOf('s', blobB)).toBe('beta');
    expect(after.hasForeign('s', 'beta')).toBe(true);
    expect(after.mayCarry('s', 'beta', blobA)).toBe(false);
    expect(after.mayCarry('s', 'beta', blobB)).toBe(true);
    // As good as seen minted: a stripped retry keeps the profile's own.
    expect(after.minted('s', 'beta', blobB)).toBe(true);
    // A blob it has no digest of is judged as before (the upstream decides).
    expect(after.ownerOf('s', `${blobA}x`)).toBeUndefined();
    // Bounded as what it sees: the oldest goes first; a rename carries them, a removal ends them.
    after.record('s', 'beta', `${blobB}y`);
    after.record('s', 'beta', `${blobB}z`);
    expect(after.ownerOf('s', blobA)).toBeUndefined();
    after.reassign('beta', 'gamma');
    expect(after.ownerOf('s', `${blobB}y`)).toBe('gamma');
    after.reassign('gamma', null);
    expect(after.hasForeign('s', 'alpha')).toBe(false);
  });
});

describe('stripCiphertext', () => {
  it('returns null when nothing must go, so the original bytes are sent', () => {
    const body = history();
    expect(stripCiphertext(body, () => true)).toBeNull();
    expect(stripCiphertext({ input: 'text' }, () => false)).toBeNull();
  });

  it('removes foreign blobs only, leaves the body untouched, and keeps own items by reference', () => {
    const body = history();
    const snapshot = JSON.stringify(body);
    const result = stripCiphertext(body, (blob) => blob === blobB)!;
    expect(JSON.stringify(body)).toBe(snapshot);
    const input = result.body['input'] as unknown[];
    const original = body['input'] as unknown[];
    // rs_a had nothing but its blob: dropped; the compaction item too; rs_b kept as is.
    expect(input).toEqual([original[0], original[2], original[4]]);
    expect(input[1]).toBe(original[2]);
    expect(result.removed).toBe(2);
  });

  it('keeps a foreign reasoning item’s summary without its blob, and strips everything on the retry', () => {
    const result = stripAllCiphertext(history())!;
    expect(result.body['input']).toEqual([
      (history()['input'] as unknown[])[0],
      { type: 'reasoning', id: 'rs_b', summary: [{ type: 'summary_text', text: 'thought' }] },
      (history()['input'] as unknown[])[4],
    ]);
    expect(JSON.stringify(result.body)).not.toContain('gAAAAA');
  });

  it('never passes on a blob that is not a string', () => {
    const result = stripCiphertext(
      { input: [{ type: 'reasoning', summary: [], encrypted_content: 42 }] },
      () => true,
    )!;
    expect(result.body['input']).toEqual([]);
  });
});

describe('isCiphertextRejection', () => {
  const message =
    'The encrypted content gAAA...abcd could not be verified. Reason: Encrypted content organization_id did not match the target organization.';

  it('knows both real shapes', () => {
    expect(
      isCiphertextRejection(
        400,
        JSON.stringify({
          error: { message, type: 'invalid_request_error', code: 'invalid_encrypted_content' },
        }),
      ),
    ).toBe(true);
    expect(
      isCiphertextRejection(
        400,
        JSON.stringify({ error: { message, type: 'invalid_request_error', code: null } }),
      ),
    ).toBe(true);
  });

  it('refuses lookalikes: other codes, other statuses, other messages, non-JSON', () => {
    expect(isCiphertextRejection(400, JSON.stringify({ error: { message, code: 'other' } }))).toBe(
      false,
    );
    expect(isCiphertextRejection(500, JSON.stringify({ error: { message, code: null } }))).toBe(
      false,
    );
    expect(
      isCiphertextRejection(
        400,
        JSON.stringify({ error: { message: 'Invalid input', code: null } }),
      ),
    ).toBe(false);
    expect(isCiphertextRejection(400, 'encrypted content could not be verified')).toBe(false);
    expect(isCiphertextRejection(400, 'null')).toBe(false);
  });
});

describe('createCiphertextTap', () => {
  it('reports blobs of output_item.done across any chunking, and nothing else', () => {
    const event = (payload: object) => `event: x\ndata: ${JSON.stringify(payload)}\n\n`;
    const stream =
      event({ type: 'response.created', response: { id: 'r' } }) +
      event({
        type: 'response.output_item.done',
        item: { type: 'reasoning', id: 'rs', summary: [], encrypted_content: blobA },
      }) +
      event({
        type: 'response.output_item.done',
        item: { type: 'message', content: [{ text: '"encrypted_content"' }] },
      }) +
      event({
        type: 'response.completed',
        response: { output: [{ type: 'reasoning', encrypted_content: blobB }] },
      });
    const bytes = Buffer.from(stream);
    for (const size of [1, 7, 64, bytes.length]) {
      const seen: string[] = [];
      const tap = createCiphertextTap((blob) => seen.push(blob));
      for (let start = 0; start < bytes.length; start += size)
        tap(bytes.subarray(start, start + size));
      expect(seen, `chunks of ${size}`).toEqual([blobA]);
    }
  });
});

describe('a removed profile’s blobs', () => {
  it('stay foreign to every account the session goes to next', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-removed-blobs-'),
      profileCount: 2,
      clock: { now: () => Date.now(), setTimeout, clearTimeout } as never,
    });
    onTestFinished(() => engine.settled());
    const blob = 'gAAAA' + 'x'.repeat(400);
    engine.ciphertext.record('s1', 'profile-1', blob);
    engine.renameLive('profile-1', null);
    // Not unknown (sent as is, refused upstream, sent again stripped): another's, stripped at once.
    expect(engine.ciphertext.hasForeign('s1', 'profile-0')).toBe(true);
    expect(engine.ciphertext.mayCarry('s1', 'profile-0', blob)).toBe(false);
  });
});
