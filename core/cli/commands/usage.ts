/**
 * `codex-lab usage [NAME] [--refresh] [--json]`: the quota windows per profile. `--refresh` asks
 * the usage endpoint now (through the TokenManager) and stores the snapshots first.
 */
import { createLogger } from '../../log.ts';
import { systemClock } from '../../ports.ts';
import type { ProfileView, QuotaWindowView } from '../../service/contract.ts';
import { LabService } from '../../service/lab-service.ts';
import { buildProfileViews } from '../../service/views.ts';
import { writeLine, type CliContext } from '../context.ts';

function describeWindow(window: QuotaWindowView | null, now: number): string {
  if (!window) return '—';
  const reset = window.resetsAt ? Date.parse(window.resetsAt) - now : null;
  const when =
    reset === null ? '' : reset <= 0 ? ', reset due' : `, resets in ${formatSpan(reset)}`;
  return `${Math.round(window.usedPercent)}% used${when}`;
}

function updatedLabel(updatedAt: string | null, now: number): string {
  if (!updatedAt) return 'never';
  const age = Math.max(0, now - Date.parse(updatedAt));
  return age < 60_000 ? 'just now' : `${formatSpan(age)} ago`;
}

function formatSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * Prints the quota table (or JSON); exits 1 when a named profile does not exist or a refresh
 * failed for some profile (named on stderr).
 */
export async function runUsage(
  context: CliContext,
  args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const name = args[0] ?? null;
  let refreshFailed = false;
  if (options['refresh'] === true) {
    const service = new LabService({
      paths: context.paths,
      env: context.env,
      clock: systemClock,
      logger: createLogger({ level: context.env['CODEX_LAB_LOG_LEVEL'] ?? 'warn' }),
      rendererDir: null,
      usagePollMs: 0,
    });
    const result = await service.refreshUsage({ profile: name });
    await service.stop();
    if (!result.ok && result.code === 'profile_not_found') {
      writeLine(context.stderr, `codex-lab: ${result.message}`);
      return 1;
    }
    if (!result.ok) {
      // Profiles that answered were refreshed: the table below still shows what is known.
      writeLine(context.stderr, `codex-lab: could not refresh the quota of ${result.message}`);
      refreshFailed = true;
    }
  }
  const now = Date.now();
  let views: ProfileView[] = await buildProfileViews(context.paths, now);
  if (name) {
    views = views.filter((view) => view.name.toLowerCase() === name.toLowerCase());
    if (views.length === 0) {
      writeLine(
        context.stderr,
        `codex-lab: there is no profile named "${name}"; run codex-lab list.`,
      );
      return 1;
    }
  }
  if (options['json'] === true) {
    writeLine(
      context.stdout,
      JSON.stringify(
        views.map((view) => ({
          name: view.name,
          email: view.email,
          plan: view.plan,
          status: view.status,
          unavailableUntil: view.unavailableUntil,
          quota: view.quota,
        })),
        null,
        2,
      ),
    );
    return refreshFailed ? 1 : 0;
  }
  if (views.length === 0) {
    writeLine(context.stdout, 'No profiles yet: run codex-lab login.');
    return 0;
  }
  const rows = views.map((view) => [
    view.name,
    view.status,
    describeWindow(view.quota.primary, now),
    describeWindow(view.quota.secondary, now),
    updatedLabel(view.quota.updatedAt, now),
  ]);
  const header = ['PROFILE', 'STATUS', '5-HOUR', 'WEEKLY', 'UPDATED'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  for (const row of [header, ...rows]) {
    writeLine(
      context.stdout,
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  }
  return refreshFailed ? 1 : 0;
}
