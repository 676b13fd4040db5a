/**
 * A `LabService` wired to the fake ChatGPT the way the integration tests use it: real profiles
 * saved through the real store, no renderer, no usage polling, and optionally a debug logger
 * whose every line is kept so a test can search the log for planted tokens.
 */
import type { LabPaths } from '../../core/home/paths.ts';
import { createLogger } from '../../core/log.ts';
import { silentLogger, systemClock, type Logger } from '../../core/ports.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { LabService } from '../../core/service/lab-service.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';

/** Saves one profile per `[email, name]` through the real store, signed in at the fake issuer. */
export async function signInProfiles(
  fake: FakeChatGpt,
  paths: LabPaths,
  profiles: ReadonlyArray<readonly [email: string, name: string]>,
): Promise<void> {
  const store = new ProfileStore({ paths });
  for (const [email, name] of profiles) {
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, email) as AuthDotJson,
      requestedName: name,
    });
  }
}

/** A debug-level logger that appends every written line to `lines`, scrubbing `secrets`. */
export function capturingLogger(secrets: () => readonly string[] = () => []): {
  lines: string[];
  logger: Logger;
} {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    secrets,
  });
  return { lines, logger };
}

/** A `LabService` against `fake` (issuer and backend), without renderer or usage polling. */
export function createTestLabService(
  fake: FakeChatGpt,
  paths: LabPaths,
  options: { logger?: Logger; env?: Record<string, string> } = {},
): LabService {
  return new LabService({
    paths,
    env: {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      ...options.env,
    },
    clock: systemClock,
    logger: options.logger ?? silentLogger,
    rendererDir: null,
    usagePollMs: 0,
  });
}
