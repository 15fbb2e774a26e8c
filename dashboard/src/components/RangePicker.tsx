import { PRESET_LABELS, PRESETS, type DateRange, type RangeChoice } from '../dates'

/**
 * Presets as a radio group (one choice, arrow keys move between them), and two date inputs for
 * a custom range. Choosing "Custom" starts from the range currently shown.
 */
export function RangePicker({ choice, resolved, onChange }: { choice: RangeChoice; resolved: DateRange; onChange: (choice: RangeChoice) => void }) {
  const custom = choice.preset === 'custom'
  return (
    <div className="range-picker">
      <fieldset className="segmented">
        <legend className="field-label">Date range</legend>
        {PRESETS.map((preset) => (
          <label key={preset}>
            <input type="radio" name="range" value={preset} checked={choice.preset === preset} onChange={() => onChange({ preset })} />
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
              max={resolved.to}
              required
              onChange={(event) => event.target.value && onChange({ preset: 'custom', from: event.target.value, to: resolved.to })}
              data-testid="range-from"
            />
          </label>
          <label className="field">
            <span className="field-label">To</span>
            <input
              type="date"
              value={resolved.to}
              min={resolved.from}
              required
              onChange={(event) => event.target.value && onChange({ preset: 'custom', from: resolved.from, to: event.target.value })}
              data-testid="range-to"
            />
          </label>
        </div>
      )}
    </div>
  )
}
