import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { parse } from 'csv-parse/sync'
import { csvRecord } from './csv'
import { csvRecords } from '../lib/csv-records'

test('counts the records a CSV parser reads, whatever the fields hold', () => {
  const field = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a\r\nb', '"', '""', ',', '\n', 'x"\r\n"y'), fc.integer())
  fc.assert(
    fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 8 }), (rows) => {
      const text = rows.map((row) => csvRecord(row)).join('')
      expect(csvRecords(text)).toBe((parse(text, { relax_column_count: true }) as unknown[]).length)
    }),
    { seed: 20261206, numRuns: 300 },
  )
})

test('a last record without its line end still counts', () => {
  expect(csvRecords('a,b\r\n1,2')).toBe(2)
  expect(csvRecords('')).toBe(0)
})
