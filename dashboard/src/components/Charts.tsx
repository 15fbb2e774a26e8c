/**
 * Charts are drawn by uPlot (leeoniya/uPlot, MIT, no dependencies): about 22 KB gzipped, a canvas
 * per chart (cheap at thousands of points, where SVG chart libraries build a DOM node per point),
 * and time axes that follow any IANA zone through `tzDate`, which the zone picker needs. Recharts
 * would have cost several times that size, plus d3 modules, for two line charts and one bar chart.
 * uPlot is imperative, so the thin wrapper below creates a chart per data set and destroys it on
 * change; its size follows the container, since the layout changes between desktop and phone.
 */
import { useEffect, useMemo, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { formatCount } from '../format'
import type { Realtime } from '../hooks/useRealtime'

/** Tick steps for counts: whole numbers only (no "0.5 views"). */
const COUNT_STEPS = [1, 2, 5].flatMap((step) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].map((scale) => step * scale)).sort((a, b) => a - b)

/** Colours live in styles.css; the canvas needs them as values. */
function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

function UPlot({ options, data, label }: { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData; label: string }) {
  const container = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = container.current
    if (!element) return
    // uPlot's cursor follows the mouse only. A finger or a pen puts it where it touches and drags
    // it along (styles.css lets a sideways slide reach the chart while an upward one still scrolls
    // the page), and it stays there, the legend showing that bucket, after the mouseleave the
    // browser sends once a tap is over.
    let touched = false
    const bind: uPlot.Cursor.Bind = { mouseleave: (_chart, _target, handler) => (event) => (touched ? null : handler(event)) }
    const chart = new uPlot({ ...options, cursor: { ...options.cursor, bind }, width: element.clientWidth }, data, element)
    const observer = new ResizeObserver(() => {
      if (element.clientWidth !== chart.width) chart.setSize({ width: element.clientWidth, height: options.height })
    })
    observer.observe(element)
    const onPointer = (event: PointerEvent) => {
      touched = event.pointerType !== 'mouse'
      if (!touched) return
      const plot = chart.over.getBoundingClientRect()
      chart.setCursor({ left: event.clientX - plot.left, top: event.clientY - plot.top })
    }
    chart.over.addEventListener('pointerdown', onPointer)
    chart.over.addEventListener('pointermove', onPointer)
    return () => {
      chart.over.removeEventListener('pointerdown', onPointer)
      chart.over.removeEventListener('pointermove', onPointer)
      observer.disconnect()
      chart.destroy()
    }
  }, [options, data])
  // The canvas says nothing to a screen reader: the label summarises it, and the tables next to it hold the numbers.
  return <div ref={container} className="chart" role="img" aria-label={label} />
}

const countValue = (_chart: uPlot, value: number | null) => (value == null ? '–' : formatCount(value))

const HOUR = 3600
const DAY = 24 * HOUR

/** How one chart's time axis is cut: tick steps (seconds) and the legend's format for a bucket. */
interface TimeAxis {
  steps: number[]
  legend: string
  /** Seconds of room left of the first point and right of the last, for bars centred on them. */
  pad?: number
}

const HOURLY: TimeAxis = { steps: [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY], legend: '{D} {MMM} {YYYY} {HH}:{mm}' }
const DAILY: TimeAxis = { steps: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY], legend: '{D} {MMM} {YYYY}' }
const MINUTES: TimeAxis = { steps: [60, 300, 600, 900, 1800], legend: '{HH}:{mm}', pad: 30 }

const formatDay = uPlot.fmtDate('{MMM} {D}')
const formatTime = uPlot.fmtDate('{HH}:{mm}')

/**
 * Axes in the dashboard's colours, time in `timeZone` (a tick at midnight reads as the date, the
 * others as 24-hour times), counts on y from zero. `series` come after the x series.
 */
function chartOptions(timeZone: string, height: number, time: TimeAxis, series: uPlot.Series[]): Omit<uPlot.Options, 'width'> {
  const axis = { stroke: cssColor('--muted'), grid: { stroke: cssColor('--grid'), width: 1 }, ticks: { show: false }, font: '12px system-ui, sans-serif' }
  const formatLegend = uPlot.fmtDate(time.legend)
  const inZone = (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), timeZone)
  const tickLabel = (seconds: number) => {
    const date = inZone(seconds)
    return date.getHours() === 0 && date.getMinutes() === 0 ? formatDay(date) : formatTime(date)
  }
  const pad = time.pad ?? 0
  return {
    height,
    tzDate: inZone,
    scales: {
      x: { range: (_chart, min, max) => [min - pad, max + pad] },
      y: { range: (_chart, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
    },
    axes: [
      { ...axis, incrs: time.steps, values: (_chart, splits) => splits.map(tickLabel) },
      { ...axis, incrs: COUNT_STEPS, size: 44, values: (_chart, splits) => splits.map(formatCount) },
    ],
    // Dragging would zoom, with no visible way back: the range picker is the way to zoom.
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    series: [{ label: 'Time', value: (_chart, seconds: number | null) => (seconds == null ? '–' : formatLegend(inZone(seconds))) }, ...series],
  }
}

/** One line of the traffic chart: a label and a value per bucket (null: the bucket has not begun). */
export interface TrafficLine {
  label: string
  values: (number | null)[]
}

/** Two counts per bucket as lines, the first shaded. */
export function TrafficChart({
  starts,
  lines,
  interval,
  timeZone,
  label,
}: {
  starts: string[]
  lines: [TrafficLine, TrafficLine]
  interval: 'hour' | 'day'
  timeZone: string
  label: string
}) {
  const [first, second] = lines
  const options = useMemo(
    () =>
      chartOptions(timeZone, 260, interval === 'hour' ? HOURLY : DAILY, [
        { label: first.label, stroke: cssColor('--accent'), fill: cssColor('--accent-soft'), width: 2, value: countValue },
        { label: second.label, stroke: cssColor('--accent-2'), width: 2, value: countValue },
      ]),
    [timeZone, interval, first.label, second.label],
  )
  const data = useMemo<uPlot.AlignedData>(
    () => [starts.map((start) => Date.parse(start) / 1000), first.values, second.values],
    [starts, first.values, second.values],
  )
  return <UPlot options={options} data={data} label={label} />
}

/** Events per minute as bars. */
export function MinuteChart({ minutes, timeZone, label }: { minutes: Realtime['per_minute']; timeZone: string; label: string }) {
  const options = useMemo(
    () =>
      chartOptions(timeZone, 140, MINUTES, [
        {
          label: 'Events',
          stroke: cssColor('--accent'),
          fill: cssColor('--accent'),
          paths: uPlot.paths.bars!({ size: [0.7, 24] }),
          points: { show: false },
          value: countValue,
        },
      ]),
    [timeZone],
  )
  const data = useMemo<uPlot.AlignedData>(() => [minutes.map((entry) => Date.parse(entry.minute) / 1000), minutes.map((entry) => entry.events)], [minutes])
  return <UPlot options={options} data={data} label={label} />
}
