/**
 * The one reader of stored tokens (a Codex `auth.json`, in a file or a keychain entry): its
 * failures are marked as the tokens' own (`tokensFileError`), so every surface that says "auth
 * file unreadable" says it of this file only.
 */
import { tokensFileError } from '../errors.ts';
import { parseJsonText, readJsonFile } from '../home/files.ts';
import { authDotJsonSchema, type AuthDotJson } from './schema.ts';

/** Reads the auth.json at `path` (undefined when it is missing); its failure names it as the tokens'. */
export async function readAuthFile(path: string): Promise<AuthDotJson | undefined> {
  try {
    return await readJsonFile(path, authDotJsonSchema);
  } catch (error) {
    throw tokensFileError(error, path);
  }
}

/** Parses auth.json text that came from `where` (a keychain entry); its failure is the tokens'. */
export function parseAuthText(where: string, text: string): AuthDotJson {
  try {
    return parseJsonText(where, text, authDotJsonSchema);
  } catch (error) {
    throw tokensFileError(error, where);
  }
}
