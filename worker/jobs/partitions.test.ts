import { expect, test } from 'bun:test'
import { rawEventsGone, retentionBoundary } from '../../lib/retention'
import { monthsAhead } from './partitions'

test('retention keeps the UTC month that holds the oldest instant kept, whole', () => {
  expect(retentionBoundary(new Date('2026-09-15T12:00:00Z'), 60).toISOString()).toBe('2026-07-01T00:00:00.000Z')
  // 31 days before 1 March 00:30 is 29 January 00:30.
  expect(retentionBoundary(new Date('2026-03-01T00:30:00Z'), 31).toISOString()).toBe('2026-01-01T00:00:00.000Z')
  expect(retentionBoundary(new Date('2026-01-05T00:00:00Z'), 10).toISOString()).toBe('2025-12-01T00:00:00.000Z')
  expect(retentionBoundary(new Date('2026-01-31T23:59:59Z'), 1).toISOString()).toBe('2026-01-01T00:00:00.000Z')
})

test('a refusal names what needs raw events and the first day to ask from', () => {
  expect(rawEventsGone('goals', new Date('2026-07-01T00:00:00Z'))).toBe(
    'goals need raw events, and those before 2026-07-01 (UTC) were dropped by RAW_RETENTION_DAYS; ask from 2026-07-01 on',
  )
})

test('partitions are made for this UTC month and the next two, across a year’s end', () => {
  expect(monthsAhead(new Date('2026-11-30T23:59:59.999Z'))).toEqual(['2026-11-01', '2026-12-01', '2027-01-01'])
  expect(monthsAhead(new Date('2026-12-31T23:00:00-05:00'))).toEqual(['2027-01-01', '2027-02-01', '2027-03-01'])
})
