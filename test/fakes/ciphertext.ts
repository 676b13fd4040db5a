/**
 * Account-bound ciphertext as the real backend mints and checks it (research/codex-0.171-notes.md
 * section 2): every reasoning item's `encrypted_content` (and a remote-compaction item's) is sealed
 * for the organization (account) that produced it. Replayed to another account, the backend answers
 * 400 `invalid_encrypted_content` — or, in the other real shape, `code: null` with only the message.
 *
 * The fake's blobs look like the real Fernet tokens (`gAAAAA…`, base64url) and carry the minting
 * account id and item id under an HMAC with a per-fake secret, so a truncated or edited blob is
 * "could not be decrypted or parsed", and a blob from another account is "organization_id did not
 * match the target organization".
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FakeAccount } from './accounts.ts';
import type { FakeChatGpt } from './fake-chatgpt.ts';

const secretKey = 'ciphertext.secret';
/** Random filler per blob: real reasoning ciphertext runs to kilobytes. */
const fillerBytes = 768;

function secretOf(fake: FakeChatGpt): Buffer {
  let secret = fake.extensions.get(secretKey) as Buffer | undefined;
  if (!secret) {
    secret = randomBytes(32);
    fake.extensions.set(secretKey, secret);
  }
  return secret;
}

/** Seals `itemId` for `account`: what the backend puts in `encrypted_content`. */
export function mintEncryptedContent(
  fake: FakeChatGpt,
  account: FakeAccount,
  itemId: string,
): string {
  const payload = Buffer.from(
    JSON.stringify({
      organization_id: account.accountId,
      item_id: itemId,
      filler: randomBytes(fillerBytes).toString('base64url'),
    }),
  ).toString('base64url');
  const mac = createHmac('sha256', secretOf(fake)).update(payload).digest('base64url');
  return `gAAAAA${payload}.${mac}`;
}

/** What the backend concludes about one blob replayed to `account`. */
export type CiphertextCheck = 'ok' | 'foreign' | 'malformed';

/** Checks one `encrypted_content` replayed to `account`. */
export function checkEncryptedContent(
  fake: FakeChatGpt,
  account: FakeAccount,
  blob: string,
): CiphertextCheck {
  const match = /^gAAAAA([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(blob);
  if (!match) return 'malformed';
  const [, payload, mac] = match as unknown as [string, string, string];
  const expected = createHmac('sha256', secretOf(fake)).update(payload).digest('base64url');
  if (mac !== expected) return 'malformed';
  try {
    const sealed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      organization_id?: unknown;
    };
    return sealed.organization_id === account.accountId ? 'ok' : 'foreign';
  } catch {
    return 'malformed';
  }
}

/** The 400 body the backend answers for a rejected blob, in the account's shape. */
export function encryptedContentError(
  account: FakeAccount,
  blob: string,
  check: Exclude<CiphertextCheck, 'ok'>,
): Record<string, unknown> {
  const reason =
    check === 'foreign'
      ? 'Encrypted content organization_id did not match the target organization.'
      : 'Encrypted content could not be decrypted or parsed.';
  // The backend quotes only the blob's first and last four characters.
  const quoted = `${blob.slice(0, 4)}...${blob.slice(-4)}`;
  const code =
    check === 'foreign' && account.encryptedContentRejection === 'code'
      ? 'invalid_encrypted_content'
      : null;
  return {
    error: {
      message: `The encrypted content ${quoted} could not be verified. Reason: ${reason}`,
      type: 'invalid_request_error',
      param: null,
      code,
    },
  };
}

/**
 * The first replayed item of `input` whose ciphertext `account` cannot accept: reasoning items'
 * and compaction items' `encrypted_content`. Null when every blob is the account's own.
 */
export function firstRejectedBlob(
  fake: FakeChatGpt,
  account: FakeAccount,
  input: unknown,
): { blob: string; check: Exclude<CiphertextCheck, 'ok'> } | null {
  if (!Array.isArray(input)) return null;
  for (const item of input as unknown[]) {
    if (item === null || typeof item !== 'object') continue;
    const { type, encrypted_content: blob } = item as {
      type?: unknown;
      encrypted_content?: unknown;
    };
    if (type !== 'reasoning' && type !== 'compaction') continue;
    if (blob === undefined || blob === null) continue;
    if (typeof blob !== 'string') return { blob: String(blob), check: 'malformed' };
    const check = checkEncryptedContent(fake, account, blob);
    if (check !== 'ok') return { blob, check };
  }
  return null;
}
