/** Structured logging: one JSON object per line, so log shippers need no parsing rules. */
export type Fields = Record<string, unknown>

export interface Logger {
  info(msg: string, fields?: Fields): void
  warn(msg: string, fields?: Fields): void
  error(msg: string, fields?: Fields): void
}

type Level = keyof Logger

export function createLogger(service: string, write: (line: string) => void = (line) => console.log(line)): Logger {
  const emit = (level: Level) => (msg: string, fields: Fields = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, service, msg, ...fields }))
  return { info: emit('info'), warn: emit('warn'), error: emit('error') }
}

/** A logger that drops everything; for tests that assert on behaviour, not output. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

export function errorFields(error: unknown): Fields {
  if (error instanceof Error) {
    // Drizzle's query errors carry the statement and its parameters (event payloads) in their
    // message; the driver's error underneath says what went wrong without them.
    if (error.name === 'DrizzleQueryError' && error.cause instanceof Error) return { error: error.cause.message, errorName: error.cause.name }
    const cause = error.cause instanceof Error ? { cause: error.cause.message } : {}
    return { error: error.message, errorName: error.name, ...cause }
  }
  return { error: String(error) }
}
