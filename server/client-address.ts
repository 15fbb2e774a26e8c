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
  const entry = entries[Math.max(0, entries.length - hops)]
  return entry && isIP(entry) ? entry : undefined
}

/** The client's address for rate limits, login budgets and visitor ids. */
export function clientAddressOf(trust: ProxyTrust): ClientAddress {
  return (request, server) =>
    (trust.trustProxy ? forwardedClient(request.headers.get('x-forwarded-for'), trust.hops) : undefined) ?? peerAddress(request, server) ?? 'unknown'
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6 (which Bun reports on dual-stack sockets). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return (isIP(v4) === 4 && v4.startsWith('127.')) || address === '::1'
}
