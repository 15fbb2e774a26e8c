/**
 * The benchmark's only contact with process.env: the child processes (API, worker, wrk, bare
 * server) inherit the caller's environment (PATH, HOME, ...), with the benchmark's own settings
 * laid over it. Everything the benchmark itself needs comes from command-line flags.
 */
export function childEnv(overrides: Record<string, string>): Record<string, string> {
  const inherited: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined) inherited[name] = value
  }
  return { ...inherited, ...overrides }
}
