import { describe, expect, test } from 'bun:test'
import { API_HEAP_RAM_BYTES, loadScriptsEnv } from './env'

describe('the API process environment', () => {
  test('is the caller\'s environment plus the API heap sizing', () => {
    const env = loadScriptsEnv({ DATABASE_URL: 'postgres://a@h/db', EXTRA: 'kept' })
    expect(env.apiProcessEnv).toEqual({ DATABASE_URL: 'postgres://a@h/db', EXTRA: 'kept', BUN_JSC_forceRAMSize: API_HEAP_RAM_BYTES })
  })

  test('an operator\'s own heap sizing wins', () => {
    expect(loadScriptsEnv({ BUN_JSC_forceRAMSize: '1000000000' }).apiProcessEnv.BUN_JSC_forceRAMSize).toBe('1000000000')
  })
})
