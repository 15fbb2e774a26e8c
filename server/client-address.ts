import { isIP } from 'node:net'
import type { Server } from 'bun'

/** Which proxies in front of the API set X-Forwarded-For, and so may be believed. */
export interface ProxyTrust {
  /** Take the client from X-Forwarded-For at all (only behind a proxy that sets it). */
  trustProxy: boolean
  /** How many proxies in front of the API append to X-Forwarded-For (1: one reverse proxy). */
  hops: number
}

export const NO_PROXY: ProxyTrust = { trustProxy: false, hops: 1 }

export type ClientAddress = (request: Request, server: Server<unknown> | null) => string

/** The address of the socket the request came in on: never taken from a header. */
export function peerAddress(request: Request, server: Server<unknown> | null): string | undefined {
  return server?.requestIP(request)?.address
}

/**
 * The client in an X-Forwarded-For value behind `hops` trusted proxies: each proxy appends the
 * address it received the request from, so the client is the `hops`-th entry from the right;
 * everything left of it was written by the client and proves nothing. Undefined when that entry is
 * not an IP address.
 */
export function forwardedClient(header: string | null, hops: number): string | undefined {
  if (!header) return undefined
  const entries = header.split(',').map((entry) => entry.trim())
  // Fewer entries than proxies: the request did not come through all of them.
  const entry = entries.length >= hops ? entries[entries.length - hops] : undefined
  return entry && isIP(entry) ? entry : undefined
}

/**
 * The client's address for rate limits, login budgets and visitor ids. X-Forwarded-For is
 * believed only from a peer on a loopback or private address, where a reverse proxy sits: a
 * caller reaching the published port directly writes its own.
 */
export function clientAddressOf(trust: ProxyTrust): ClientAddress {
  return (request, server) => {
    const peer = peerAddress(request, server)
    const forwarded = trust.trustProxy && isPrivate(peer) ? forwardedClient(request.headers.get('x-forwarded-for'), trust.hops) : undefined
    return forwarded ?? peer ?? 'unknown'
  }
}

const PRIVATE_V4 = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/

/** Loopback, RFC 1918, link-local and unique-local (fc00::/7) addresses: where a reverse proxy of this site can be. */
export function isPrivate(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIP(v4) === 4) return v4.startsWith('127.') || PRIVATE_V4.test(v4)
  const lower = address.toLowerCase()
  return address === '::1' || /^f[cd][0-9a-f]{2}:/.test(lower) || lower.startsWith('fe80:')
}

/**
 * The key budgets count an address under: IPv6 by its /64, which one client can fill with
 * addresses of its own; IPv4 as it is.
 */
export function budgetKey(address: string): string {
  if (isIP(address) !== 6 || address.startsWith('::ffff:')) return address
  const [head = '', tail] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail === undefined ? [] : tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6 (which Bun reports on dual-stack sockets). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return (isIP(v4) === 4 && v4.startsWith('127.')) || address === '::1'
}
