import { useState } from 'react'
import { errorMessage } from '../api'

type Outcome<T> = { data: T; error: null } | { data: unknown; error: { status: unknown; value: unknown } }

/**
 * One change at a time through the API, for settings forms: the API's refusal is kept to be shown
 * as it says it, and `onDone` runs after every change that went through (so lists ask again).
 */
export function useChange(onDone: () => void) {
  const [problem, setProblem] = useState<string | null>(null)
  const change = async <T,>(call: () => Promise<Outcome<T>>): Promise<{ data: T } | undefined> => {
    const outcome = await call()
    if (outcome.error) {
      setProblem(errorMessage(outcome.error))
      return undefined
    }
    setProblem(null)
    onDone()
    return { data: outcome.data as T }
  }
  return { problem, change }
}
