import { useState } from 'react'
import { MAX_RANGE_DAYS } from '../../../lib/range-limits'
import { addDays, dayCount, PRESET_LABELS, PRESETS, type DateRange, type RangeChoice } from '../dates'

/** Why the API would refuse this custom range, or null. */
function rangeProblem(range: DateRange): string | null {
  if (range.from > range.to) return 'The start must not be after the end.'
  const days = dayCount(range)
  return days > MAX_RANGE_DAYS ? `A range may span at most ${MAX_RANGE_DAYS} days; this one has ${days}. The range shown is unchanged.` : null
}

/**
 * Presets as a radio group (one choice, arrow keys move between them), and two date inputs for
 * a custom range. Choosing "Custom" starts from the range currently shown. A range the API would
 * refuse (over 400 days) is not taken: a message says why.
 */
export function RangePicker({ choice, resolved, onChange }: { choice: RangeChoice; resolved: DateRange; onChange: (choice: RangeChoice) => void }) {
  const custom = choice.preset === 'custom'
  const [problem, setProblem] = useState<string | null>(null)
  const choose = (range: DateRange) => {
    const refused = rangeProblem(range)
    setProblem(refused)
    if (!refused) onChange({ preset: 'custom', ...range })
  }
  return (
    <div className="range-picker">
      <fieldset className="segmented">
        <legend className="field-label">Date range</legend>
        {PRESETS.map((preset) => (
          <label key={preset}>
            <input
              type="radio"
              name="range"
              value={preset}
              checked={choice.preset === preset}
              onChange={() => {
                setProblem(null)
                onChange({ preset })
              }}
            />
            <span>{PRESET_LABELS[preset]}</span>
          </label>
        ))}
        <label>
          <input type="radio" name="range" value="custom" checked={custom} onChange={() => onChange({ preset: 'custom', ...resolved })} />
          <span>Custom</span>
        </label>
      </fieldset>
      {custom && (
        <div className="custom-range">
          <label className="field">
            <span className="field-label">From</span>
            <input
              type="date"
              value={resolved.from}
              min={addDays(resolved.to, 1 - MAX_RANGE_DAYS)}
              max={resolved.to}
              required
              onChange={(event) => event.target.value && choose({ from: event.target.value, to: resolved.to })}
              data-testid="range-from"
            />
          </label>
          <label className="field">
            <span className="field-label">To</span>
            <input
              type="date"
              value={resolved.to}
              min={resolved.from}
              max={addDays(resolved.from, MAX_RANGE_DAYS - 1)}
              required
              onChange={(event) => event.target.value && choose({ from: resolved.from, to: event.target.value })}
              data-testid="range-to"
            />
          </label>
          {problem && (
            <p className="state state-error range-problem" role="alert" data-testid="range-problem">
              {problem}
            </p>
          )}
        </div>
      )}
    </div>
  )
}
