import { useRef, type KeyboardEvent } from 'react'

export interface Tab<K extends string> {
  key: K
  label: string
}

/**
 * A row of tab buttons (the WAI-ARIA tabs pattern): the chosen one has aria-selected and is the
 * only one in the Tab order; arrow keys, Home and End move between them. `panelId` names the
 * element the tabs switch.
 */
export function Tabs<K extends string>({
  tabs,
  value,
  onChange,
  label,
  panelId,
}: {
  tabs: Tab<K>[]
  value: K
  onChange: (key: K) => void
  label: string
  panelId: string
}) {
  const list = useRef<HTMLDivElement>(null)
  const onKeyDown = (event: KeyboardEvent) => {
    const index = tabs.findIndex((tab) => tab.key === value)
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key]
    if (next === undefined) return
    event.preventDefault()
    const target = (next + tabs.length) % tabs.length
    onChange(tabs[target]!.key)
    list.current?.querySelectorAll<HTMLButtonElement>('[role="tab"]')[target]?.focus()
  }
  return (
    <div className="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown}>
      {tabs.map((tab) => (
        <button
          key={tab.key}
          type="button"
          role="tab"
          aria-selected={tab.key === value}
          aria-controls={panelId}
          tabIndex={tab.key === value ? 0 : -1}
          onClick={() => onChange(tab.key)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  )
}
