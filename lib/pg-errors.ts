// postgres.js connection errors and the server's "shutting down / starting up" SQLSTATEs.
const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
])

/** True when Postgres cancelled the statement after its statement_timeout (SQLSTATE 57014). */
export function isStatementTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e === 'object' && 'code' in e && (e as { code: unknown }).code === '57014') return true
  }
  return false
}

/** True when an error means Postgres could not be reached, rather than that a statement was wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : ''
    if (DATABASE_DOWN_CODES.has(code)) return true
  }
  return false
}
