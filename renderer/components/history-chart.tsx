/**
 * A small inline-SVG chart of a profile's recent quota use (both windows), no chart library.
 */
import type { QuotaPointView } from '../../core/service/contract.ts';

/** Props of `HistoryChart`. */
export interface HistoryChartProps {
  profile: string;
  history: QuotaPointView[];
}

const width = 240;
const height = 48;

function path(points: QuotaPointView[], pick: (point: QuotaPointView) => number | null): string {
  const first = Date.parse(points[0]?.at ?? '');
  const last = Date.parse(points[points.length - 1]?.at ?? '');
  const span = Math.max(1, last - first);
  const parts: string[] = [];
  for (const point of points) {
    const value = pick(point);
    if (value === null) continue;
    const x = ((Date.parse(point.at) - first) / span) * width;
    const y = height - (Math.max(0, Math.min(100, value)) / 100) * height;
    parts.push(`${parts.length === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return parts.join(' ');
}

/** The chart, or a short note when there is not enough history yet. */
export function HistoryChart({ profile, history }: HistoryChartProps) {
  if (history.length < 2) {
    return <p className="muted small history-empty">History appears after a few quota updates.</p>;
  }
  const latest = history[history.length - 1];
  return (
    <figure className="history">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${profile} quota history: 5-hour now ${latest?.primary ?? '?'}%, weekly now ${latest?.secondary ?? '?'}%`}
      >
        <line x1="0" x2={width} y1={height / 2} y2={height / 2} className="grid" />
        <path d={path(history, (point) => point.secondary)} className="line-secondary" />
        <path d={path(history, (point) => point.primary)} className="line-primary" />
      </svg>
      <figcaption className="small muted">
        <span className="key key-primary" /> 5-hour <span className="key key-secondary" /> weekly
      </figcaption>
    </figure>
  );
}
