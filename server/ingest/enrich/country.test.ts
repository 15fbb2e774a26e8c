import { beforeAll, describe, expect, test } from 'bun:test'
import { createCountryLookup, isCountryCode } from './country'

let countryOf: (ip: string) => string | null
beforeAll(async () => {
  countryOf = await createCountryLookup()
})

describe('createCountryLookup', () => {
  test.each([
    ['8.8.8.8', 'US'],
    ['2001:4860:4860::8888', 'US'],
    ['81.2.69.142', 'GB'],
    ['77.88.8.8', 'RU'],
    ['202.12.27.33', 'JP'],
    ['193.0.6.139', 'NL'],
    ['200.160.2.3', 'BR'],
  ])('%s is in %s', (ip, country) => expect(countryOf(ip)).toBe(country))

  test('IPv4-mapped IPv6 is its IPv4 address', () => {
    expect(countryOf('::ffff:8.8.8.8')).toBe('US')
    expect(countryOf('::FFFF:808:808')).toBe('US')
    expect(countryOf('::ffff:10.0.0.1')).toBeNull()
    expect(countryOf('::ffff:127.0.0.1')).toBeNull()
  })

  test('addresses that name no place are null', () => {
    const nowhere = [
      ['10.0.0.1', '192.168.1.1', '172.16.0.1', 'fc00::1', 'fd12:3456::1'], // private, unique local
      ['127.0.0.1', '127.8.8.8', '::1'], // loopback
      ['169.254.1.1', 'fe80::1', 'fe80::1%eth0'], // link-local
      ['0.0.0.0', '::'], // unspecified
      ['100.64.0.1', '224.0.0.1', '255.255.255.255', '192.0.2.1', '2001:db8::1', 'ff02::1'], // CGNAT, multicast, broadcast, documentation
    ].flat()
    for (const ip of nowhere) expect(countryOf(ip)).toBeNull()
  })

  test('what is not an IP address is null', () => {
    for (const ip of ['', 'nonsense', '8.8.8', '8.8.8.8.8', '134744072', '0x8.8.8.8', '::ffff:999.1.1.1', ' 8.8.8.8']) expect(countryOf(ip)).toBeNull()
  })

  test('codes are upper-case ISO 3166-1 alpha-2', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '185.60.216.35', '41.231.53.1', '2a00:1450:4001:81c::200e']) {
      const code = countryOf(ip)
      expect(code).toMatch(/^[A-Z]{2}$/)
      expect(isCountryCode(code!)).toBe(true)
    }
  })
})

describe('isCountryCode', () => {
  test('assigned codes, in any case', () => {
    for (const code of ['US', 'us', 'Gb', 'DE', 'AX', 'ZW', 'SS', 'CW']) expect(isCountryCode(code)).toBe(true)
  })

  test('not assigned, reserved, user-assigned or malformed codes', () => {
    for (const code of ['UK', 'EU', 'XK', 'ZZ', 'AN', 'YU', '', 'U', 'USA', '12', 'u s']) expect(isCountryCode(code)).toBe(false)
  })
})
