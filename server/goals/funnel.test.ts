import { describe, expect, test } from 'bun:test'
import { stepsReached } from './funnel'

const at = (minute: number, ...steps: number[]) => ({ at: minute * 60_000, steps })

describe('stepsReached', () => {
  test('steps in order, skipping events that match nothing or a later step too early', () => {
    expect(stepsReached([at(0, 1), at(1, 0), at(2), at(3, 1), at(4, 2)], 3)).toBe(3)
    expect(stepsReached([at(0, 1), at(1, 2), at(2, 0)], 3)).toBe(1)
    expect(stepsReached([], 3)).toBe(0)
  })

  test('one event takes one step only, even when it matches several', () => {
    expect(stepsReached([at(0, 0, 1)], 2)).toBe(1)
    expect(stepsReached([at(0, 0, 1), at(1, 0, 1)], 2)).toBe(2)
    // The same goal twice in a funnel needs two events.
    expect(stepsReached([at(0, 0, 1), at(5, 0, 1), at(6, 0, 1)], 2)).toBe(2)
  })

  test('events of the same instant take their steps in any order', () => {
    expect(stepsReached([at(0, 1), at(0, 0)], 2)).toBe(2)
    // A matches steps 0 and 1, B only 0: B must take step 0 for both to be reached.
    expect(stepsReached([at(0, 0, 1), at(0, 0)], 2)).toBe(2)
    expect(stepsReached([at(0, 0), at(0, 0, 1)], 2)).toBe(2)
    // ...but an instant cannot take a step before one it has not reached.
    expect(stepsReached([at(0, 1), at(0, 1), at(1, 0)], 2)).toBe(1)
  })

  test('stops at the funnel length', () => {
    expect(stepsReached([at(0, 0), at(1, 1), at(2, 0), at(3, 1)], 2)).toBe(2)
  })
})
