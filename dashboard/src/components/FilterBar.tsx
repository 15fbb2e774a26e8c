import { filterChips } from '../filters'

const NAMES: Record<string, string> = {
  source: 'Source',
  channel: 'Channel',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'Campaign',
  utm_content: 'UTM content',
  utm_term: 'UTM term',
  referrer: 'Referrer',
  entry_page: 'Entry page',
  exit_page: 'Exit page',
  page: 'Page',
  browser: 'Browser',
  os: 'OS',
  device: 'Device',
  country: 'Country',
  event_type: 'Event type',
  goal: 'Goal',
}
const nameOf = (property: string) => NAMES[property] ?? (property.startsWith('props:') ? `Property ${property.slice('props:'.length)}` : property)

/** The view's filters as removable chips; every panel answers for what they keep. */
export function FilterBar({ filters, onRemove }: { filters: string | null; onRemove: (expression: string) => void }) {
  const chips = filterChips(filters)
  if (chips.length === 0) return null
  return (
    <ul className="filter-bar" aria-label="Filters" data-testid="filters">
      {chips.map((chip) => (
        <li key={chip.expression} className="filter-chip" data-testid="filter-chip" data-expression={chip.expression}>
          <span>
            {nameOf(chip.property)} {chip.operator} <strong>{chip.values.join(' or ')}</strong>
          </span>
          <button
            type="button"
            onClick={() => onRemove(chip.expression)}
            aria-label={`Remove filter ${nameOf(chip.property)} ${chip.operator} ${chip.values.join(' or ')}`}
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  )
}
