/**
 * What the visit enrichment costs per event: a user agent parsed afresh and from the cache, and an IP
 * country lookup. No services needed.
 *
 * Usage: bun bench/enrich.ts
 */
import { createCountryLookup } from '../server/ingest/enrich/country'
import { agentOf } from '../server/ingest/enrich/user-agent'

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
]

function perCall(n: number, f: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 5_000); i++) f(i)
  const start = Bun.nanoseconds()
  for (let i = 0; i < n; i++) f(i)
  return (Bun.nanoseconds() - start) / n
}

// A suffix per call makes every agent new to the cache (the suffix is inside ua-parser-js's 500 characters).
const uncached = perCall(50_000, (i) => agentOf(`${AGENTS[i % AGENTS.length]} b/${i}`))
const cached = perCall(2_000_000, (i) => agentOf(AGENTS[i % AGENTS.length]!))
console.log(`agentOf uncached: ${(uncached / 1000).toFixed(1)} µs/call`)
console.log(`agentOf cached:   ${cached.toFixed(0)} ns/call`)

let start = performance.now()
const countryOf = await createCountryLookup()
console.log(`country database load: ${(performance.now() - start).toFixed(0)} ms`)
// Random public-looking addresses: most land in the database, a few in reserved ranges.
const addresses = Array.from({ length: 100_000 }, (_, i) =>
  i % 4 === 0 ? `2a0${i % 10}:${((i * 7919) % 65536).toString(16)}::${i.toString(16)}` : `${1 + (i % 223)}.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`,
)
start = performance.now()
let found = 0
for (let round = 0; round < 5; round++) for (const ip of addresses) if (countryOf(ip)) found++
const seconds = (performance.now() - start) / 1000
console.log(
  `country lookups: ${Math.round((5 * addresses.length) / seconds).toLocaleString('en')}/s (${((100 * found) / (5 * addresses.length)).toFixed(0)}% found)`,
)
