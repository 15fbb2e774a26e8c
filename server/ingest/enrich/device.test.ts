import { describe, expect, test } from 'bun:test'
import { deviceOf } from './device'

describe('deviceOf', () => {
  test.each([
    [1, 'Mobile'],
    [390, 'Mobile'],
    [575, 'Mobile'],
    [576, 'Tablet'],
    [991, 'Tablet'],
    [992, 'Laptop'],
    [1439, 'Laptop'],
    [1440, 'Desktop'],
    [3840, 'Desktop'],
  ])('width %d is %s', (width, device) => expect(deviceOf(width, null)).toBe(device))

  test('the width wins over the user agent', () => {
    expect(deviceOf(1920, 'mobile')).toBe('Desktop')
    expect(deviceOf(390, 'tablet')).toBe('Mobile')
  })

  test('without a width, the user agent device type', () => {
    expect(deviceOf(undefined, 'mobile')).toBe('Mobile')
    expect(deviceOf(null, 'tablet')).toBe('Tablet')
    expect(deviceOf(undefined, null)).toBeNull()
  })

  test('a width that is not a screen counts as none', () => {
    for (const width of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(deviceOf(width, 'mobile')).toBe('Mobile')
      expect(deviceOf(width, null)).toBeNull()
    }
  })
})
