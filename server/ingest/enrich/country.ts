import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { all as allCountries } from 'iso-3166-1'
import { Reader } from 'mmdb-lib'

/**
 * The country of a visitor's IP address, from the geo-whois-asn-country database that its npm package ships
 * (RIR whois, geofeeds and ASNs, by sapics/ip-location-db; data CC BY 4.0, attribution to nro.net). IPv4 and
 * IPv6 in one 8 MB file, read into memory once.
 */
const DATABASE = 'geo-whois-asn-country.mmdb'

/** ip-location-db's own record layout, not one of MaxMind's that mmdb-lib has types for. */
type Row = { country_code?: string }
type Lookup = { get(ip: string): Row | null }

export async function createCountryLookup(): Promise<(ip: string) => string | null> {
  const path = Bun.resolveSync(`@ip-location-db/geo-whois-asn-country-mmdb/${DATABASE}`, import.meta.dir)
  const reader = new Reader(Buffer.from(await Bun.file(path).arrayBuffer())) as unknown as Lookup
  return (ip) => {
    const address = globalAddress(ip)
    if (!address) return null
    const code = reader.get(address)?.country_code
    return code && isCountryCode(code) ? code.toUpperCase() : null
  }
}

/**
 * The address in the form to look up, or undefined when it names no place: private, loopback, link-local,
 * unspecified, multicast, carrier-grade NAT, documentation and other reserved ranges (ipaddr.js's 'unicast' is
 * everything else). IPv4-mapped IPv6 (`::ffff:8.8.8.8`, as a dual-stack socket reports IPv4 peers) is its IPv4.
 */
function globalAddress(ip: string): string | undefined {
  // isIP first: ipaddr.js also reads legacy IPv4 forms (`0x8.8.8.8`, `134744072`) that no socket
  // reports. A zone id (fe80::1%eth0, which isIP takes and ipaddr.js may not) is a local address.
  if (!isIP(ip) || ip.includes('%')) return undefined
  const address = ipaddr.process(ip)
  if (address.range() !== 'unicast') return undefined
  return address.toString()
}

const CODES = new Set(allCountries().map((country) => country.alpha2))

/** An assigned ISO 3166-1 alpha-2 code (249 of them; user-assigned ones such as XK are not). */
export function isCountryCode(code: string): boolean {
  return code.length === 2 && CODES.has(code.toUpperCase())
}
