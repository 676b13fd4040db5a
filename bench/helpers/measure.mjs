// Small measuring helpers shared by benchmarks.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * CPU seconds used so far and resident memory of a process, from /proc (Linux); undefined
 * elsewhere, where the benchmark reports the figures as unavailable.
 */
export function readProcessStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100;
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds, rssKb: kb('VmRSS'), peakRssKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Replaces the `## title` section of a Markdown file (up to the next `## `) with `body`, or
 * appends it: other benchmarks own the other sections. The result is formatted as the repository
 * formats Markdown (prettier, its own config), so a run leaves a file the format check accepts.
 */
export async function updateSection(markdown, title, body) {
  const docs = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
  return format(replaceSection(markdown, title, body), {
    ...(await resolveConfig(docs)),
    parser: 'markdown',
  });
}

function replaceSection(markdown, title, body) {
  const heading = `## ${title}`;
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  const start = text.indexOf(`${heading}\n`);
  const block = `${heading}\n\n${body.trimEnd()}\n`;
  if (start < 0) return `${text}\n${block}`;
  const nextHeading = text.indexOf('\n## ', start + heading.length);
  const end = nextHeading < 0 ? text.length : nextHeading + 1;
  return `${text.slice(0, start)}${block}${nextHeading < 0 ? '' : '\n'}${text.slice(end)}`;
}
