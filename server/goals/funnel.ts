/**
 * How far one visit gets through a funnel. A visit reaches step n when distinct events of it,
 * with non-decreasing timestamps, match steps 1…n in that order (one event matches one step only).
 * Events of equal time may take their steps in any order, so within such a group the steps are
 * matched to events as a bipartite matching; across groups, going as far as possible as early as
 * possible is never worse (later steps only need events at the same time or later).
 */

export interface FunnelEvent {
  /** Milliseconds since the epoch; events come in time order. */
  at: number
  /** The steps (0-based) this event's goals match. */
  steps: number[]
}

/** The number of steps the visit reaches, 0 to stepCount. */
export function stepsReached(events: FunnelEvent[], stepCount: number): number {
  let reached = 0
  for (let start = 0; start < events.length && reached < stepCount;) {
    let end = start
    while (end < events.length && events[end]!.at === events[start]!.at) end++
    reached += stepsInGroup(events.slice(start, end), reached, stepCount)
    start = end
  }
  return reached
}

/** How many steps from `first` on the events of one instant can take, each event one step. */
function stepsInGroup(group: FunnelEvent[], first: number, stepCount: number): number {
  const owner: (number | undefined)[] = group.map(() => undefined) // event -> step it is matched to
  const augment = (step: number, seen: Set<number>): boolean => {
    for (let event = 0; event < group.length; event++) {
      if (seen.has(event) || !group[event]!.steps.includes(step)) continue
      seen.add(event)
      if (owner[event] === undefined || augment(owner[event]!, seen)) {
        owner[event] = step
        return true
      }
    }
    return false
  }
  let taken = 0
  while (first + taken < stepCount && augment(first + taken, new Set())) taken++
  return taken
}
