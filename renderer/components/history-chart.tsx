/**
 * A profile's quota history as an inline-SVG chart (no chart library): time on x (the last 24 hours
 * or 7 days, with a little room ahead of "now"), percent left on y (a line that falls as quota is
 * used, as the bars empty), the upcoming resets marked, the weekly pace projected as a dashed line
 * down towards empty, and a tooltip on every point in the shared words ("weekly 60% left").
 */
import { useState } from 'react';
import type { ForecastView, ProfileView, QuotaPointView } from '../../core/service/contract.ts';
import {
  quotaAmountText,
  quotaUnknownText,
  windowSlots,
  type WindowSlot,
} from '../../core/format.ts';
import { formatAt } from '../format.ts';

/** Props of `HistoryChart`. */
export interface HistoryChartProps {
  profile: string;
  history: QuotaPointView[];
  quota: ProfileView['quota'];
  forecast: ForecastView | null;
  now: number;
}

const hour = 3_600_000;
const ranges = { day: 24 * hour, week: 7 * 24 * hour } as const;
type Range = keyof typeof ranges;

const width = 320;
const height = 132;
const left = 34;
const right = 8;
const top = 8;
const bottom = 20;
const plotWidth = width - left - right;
const plotHeight = height - top - bottom;
/** Most point markers drawn per series (a week holds about 2 000 points). */
const maxMarkers = 120;

/** The chart with its range switch, or a short note while fewer than two readings are known. */
export function HistoryChart({ profile, history, quota, forecast, now }: HistoryChartProps) {
  const [range, setRange] = useState<Range>('day');
  if (history.length < 2) {
    // A read that reported no window has nothing to chart: say that, not "not read yet", beside
    // the card's "Updated just now". One reading is a point, not a history: drawn, it was a lone
    // line through "now" that read as data.
    return (
      <p className="muted small history-empty">
        {history.length === 1
          ? 'History starts with the next reading.'
          : quota.updatedAt === null
            ? 'History appears after the first quota read.'
            : 'The quota reads so far reported no window: nothing to chart yet.'}
      </p>
    );
  }
  const span = ranges[range];
  const start = now - span;
  const end = now + span / 6;
  const x = (at: number) => left + ((at - start) / (end - start)) * plotWidth;
  // Height of what is left: the history holds used percents, the chart shows what they leave.
  const y = (used: number) => top + plotHeight - (leftPercentExact(used) / 100) * plotHeight;
  const points = history
    .map((point) => ({ ...point, ms: Date.parse(point.at) }))
    .filter((point) => point.ms >= start && point.ms <= now + 60_000);
  // Which slot is the week, by the rule every surface uses; a lone 5-hour window leaves the
  // other slot (empty) for the week.
  const slots = windowSlots(quota);
  const weeklySlot: WindowSlot =
    slots.weekly ?? (slots.fiveHour === 'primary' ? 'secondary' : 'primary');
  const shortSlot = weeklySlot === 'primary' ? 'secondary' : 'primary';
  const line = (slot: 'primary' | 'secondary') => {
    const parts: string[] = [];
    for (const point of points) {
      const value = point[slot];
      if (value === null) continue;
      parts.push(
        `${parts.length === 0 ? 'M' : 'L'}${x(point.ms).toFixed(1)},${y(value).toFixed(1)}`,
      );
    }
    return parts.join(' ');
  };
  const markers = (slot: 'primary' | 'secondary', label: string) => {
    const step = Math.max(1, Math.ceil(points.length / maxMarkers));
    return points
      .filter(
        (point, index) =>
          point[slot] !== null && (index % step === 0 || index === points.length - 1),
      )
      .map((point) => (
        <circle
          key={`${slot}-${point.at}`}
          cx={x(point.ms)}
          cy={y(point[slot] as number)}
          r={2.2}
          className={`dot dot-${slot === weeklySlot ? 'weekly' : 'short'}`}
          data-testid="history-point"
        >
          <title>{`${formatAt(point.at, now)} — ${label} ${quotaAmountText(point[slot] as number)}`}</title>
        </circle>
      ));
  };
  const resets = [
    { window: quota[shortSlot], label: '5-hour reset' },
    { window: quota[weeklySlot], label: 'weekly reset' },
  ]
    .filter((entry) => entry.window?.resetsAt)
    .map((entry) => ({ at: Date.parse(entry.window!.resetsAt!), label: entry.label }))
    .filter((entry) => entry.at > now && entry.at <= end);
  // The pace line: from the latest weekly value at the current burn rate, to the edge, the
  // moment it runs out, or the reset, whichever comes first.
  const latestWeekly = [...points].reverse().find((point) => point[weeklySlot] !== null);
  let pace: { x1: number; y1: number; x2: number; y2: number } | null = null;
  if (latestWeekly && forecast && forecast.percentPerHour > 0) {
    const from = latestWeekly.ms;
    const stops = [end];
    if (forecast.runsOutAt) stops.push(Date.parse(forecast.runsOutAt));
    if (forecast.resetsAt) stops.push(Date.parse(forecast.resetsAt));
    const to = Math.max(from, Math.min(...stops));
    const startValue = latestWeekly[weeklySlot] as number;
    pace = {
      x1: x(from),
      y1: y(startValue),
      x2: x(to),
      y2: y(startValue + (forecast.percentPerHour * (to - from)) / hour),
    };
  }
  const ticks = xTicks(range, start, now);
  const latest = points.at(-1) ?? history.at(-1)!;
  return (
    // Named for the account: unnamed, a figure takes its caption's words (the legend).
    <figure className="history" aria-label={`${profile} quota history`}>
      <div className="history-head">
        <span className="small muted">History</span>
        <div
          className="segmented small-segmented"
          role="group"
          aria-label={`${profile} history range`}
        >
          {(['day', 'week'] as const).map((choice) => (
            <button
              key={choice}
              type="button"
              className={range === choice ? 'segment segment-on' : 'segment'}
              aria-pressed={range === choice}
              onClick={() => setRange(choice)}
            >
              {choice === 'day' ? '24 h' : '7 days'}
            </button>
          ))}
        </div>
      </div>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${profile} quota history, last ${range === 'day' ? '24 hours' : '7 days'}: ${nowText('5-hour', latest[shortSlot])}, ${nowText('weekly', latest[weeklySlot])}`}
      >
        {[0, 50, 100].map((percent) => (
          <g key={percent}>
            <line
              x1={left}
              x2={width - right}
              y1={y(100 - percent)}
              y2={y(100 - percent)}
              className="grid"
            />
            <text x={left - 4} y={y(100 - percent) + 3} className="axis-label" textAnchor="end">
              {percent}%
            </text>
          </g>
        ))}
        {ticks.map((tick) => (
          <text
            key={tick.at}
            x={x(tick.at)}
            y={height - 6}
            className="axis-label"
            textAnchor="middle"
          >
            {tick.label}
          </text>
        ))}
        <line x1={x(now)} x2={x(now)} y1={top} y2={top + plotHeight} className="now-line" />
        {resets.map((reset) => (
          <g key={reset.label} data-testid="history-reset">
            <line
              x1={x(reset.at)}
              x2={x(reset.at)}
              y1={top}
              y2={top + plotHeight}
              className="reset-line"
            >
              <title>{`${reset.label} ${formatAt(new Date(reset.at).toISOString(), now)}`}</title>
            </line>
          </g>
        ))}
        <path d={line(weeklySlot)} className="line-secondary" />
        <path d={line(shortSlot)} className="line-primary" />
        {pace && (
          <line {...pace} className="pace-line" data-testid="history-pace">
            <title>
              {`At this pace: ${forecast!.percentPerHour.toFixed(1)}% of the week per hour`}
            </title>
          </line>
        )}
        {markers(shortSlot, '5-hour')}
        {markers(weeklySlot, 'weekly')}
      </svg>
      <figcaption className="small muted">
        <span className="key key-primary" /> 5-hour <span className="key key-secondary" /> weekly
        {pace && (
          <>
            {' '}
            <span className="key key-pace" /> pace
          </>
        )}
        {resets.length > 0 && (
          <>
            {' '}
            <span className="key key-reset" /> reset
          </>
        )}
      </figcaption>
    </figure>
  );
}

/** What a used percent leaves, unrounded, within 0–100 (a chart plots the exact figure). */
function leftPercentExact(used: number): number {
  return Number.isFinite(used) ? Math.max(0, Math.min(100, 100 - used)) : 100;
}

/** "5-hour 88% left" for the chart's accessible name, or "5-hour not known yet". */
function nowText(label: string, used: number | null | undefined): string {
  return `${label} ${used === null || used === undefined ? quotaUnknownText : quotaAmountText(used)}`;
}

/** Labels along x: every 6 hours for a day ("12:00"), every day for a week ("Tue"). */
function xTicks(range: Range, start: number, now: number): { at: number; label: string }[] {
  const ticks: { at: number; label: string }[] = [];
  const date = new Date(start);
  if (range === 'day') {
    date.setMinutes(0, 0, 0);
    date.setHours(Math.ceil(date.getHours() / 6) * 6);
    for (let at = date.getTime(); at <= now; at += 6 * hour) {
      const moment = new Date(at);
      ticks.push({ at, label: `${String(moment.getHours()).padStart(2, '0')}:00` });
    }
  } else {
    date.setHours(24, 0, 0, 0);
    for (let at = date.getTime(); at <= now; at += 24 * hour) {
      ticks.push({
        at,
        label: new Intl.DateTimeFormat('en-GB', { weekday: 'short' }).format(at),
      });
    }
  }
  return ticks;
}
