import { describe, expect, test } from 'bun:test'
import { parseFilters } from './filters'

describe('parseFilters', () => {
  test('operators, several values, several filters', () => {
    expect(parseFilters('source==Google|Bing;country!=US;page~blog')).toEqual([
      { kind: 'visit', property: 'source', operator: 'is', values: ['Google', 'Bing'] },
      { kind: 'visit', property: 'country', operator: 'is_not', values: ['US'] },
      { kind: 'event', property: 'page', operator: 'contains', values: ['blog'] },
    ])
    expect(parseFilters(undefined)).toEqual([])
  })

  test('event properties: page, event_type, goal and props:<key>', () => {
    expect(parseFilters('event_type==signup;goal!=Bought;props:plan.v-2_x==pro').map((filter) => [filter.kind, filter.property])).toEqual([
      ['event', 'event_type'],
      ['event', 'goal'],
      ['event', 'props:plan.v-2_x'],
    ])
  })

  test('escapes: \\| \\; \\\\ inside values; the first operator splits', () => {
    expect(parseFilters('utm_campaign==a\\|b\\;c\\\\d|e')[0]!.values).toEqual(['a|b;c\\d', 'e'])
    expect(parseFilters('page~a==b')[0]).toEqual({ kind: 'event', property: 'page', operator: 'contains', values: ['a==b'] })
    expect(parseFilters('source==a!=b')[0]!.values).toEqual(['a!=b'])
    expect(parseFilters('source~x\\|y')[0]!.values).toEqual(['x|y'])
  })

  test.each([
    ['', 'filters: empty; leave the parameter out for no filter'],
    [';', 'filters: an empty filter between two ;'],
    ['==x', 'filters: "==x" has no operator; use property==value, property!=value or property~text'],
    ['source=x', 'filters: "source=x" has no operator; use property==value, property!=value or property~text'],
    [
      'Source==x',
      'filters: unknown property "Source"; use one of source, channel, utm_source, utm_medium, utm_campaign, utm_content, utm_term, referrer, entry_page, exit_page, page, browser, os, device, country, event_type, goal, props:<key>',
    ],
    ['props:a b==x', 'filters: unknown property "props:a b"'],
    ['source~', 'filters: "source~" has an empty value'],
    ['source==a||b', 'filters: "source==a||b" has an empty value'],
    ['source==a\\', 'filters: "source==a\\\\" has a \\ that escapes nothing'],
    [`source==${Array(101).fill('a').join('|')}`, 'filters: "source" may list at most 100 values'],
  ])('%p is refused', (text, reason) => {
    expect(() => parseFilters(text)).toThrow(reason)
  })
})
