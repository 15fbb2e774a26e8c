import { describe, expect, test } from 'bun:test'
import { API_HEAP_RAM_BYTES, loadScriptsEnv } from './env'

describe('the API process environment', () => {
  test('is the caller\'s environment plus production mode and the API heap sizing', () => {
    const env = loadScriptsEnv({ DATABASE_URL: 'postgres://a@h/db', EXTRA: 'kept' })
    expect(env.apiProcessEnv).toEqual({ DATABASE_URL: 'postgres://a@h/db', EXTRA: 'kept', NODE_ENV: 'production', BUN_JSC_forceRAMSize: API_HEAP_RAM_BYTES })
    expect(env.workerProcessEnv).toEqual({ DATABASE_URL: 'postgres://a@h/db', EXTRA: 'kept', NODE_ENV: 'production' })
  })

  test('an operator\'s own NODE_ENV wins; an empty one counts as unset', () => {
    expect(loadScriptsEnv({ NODE_ENV: 'development' }).apiProcessEnv.NODE_ENV).toBe('development')
    expect(loadScriptsEnv({ NODE_ENV: 'development' }).workerProcessEnv.NODE_ENV).toBe('development')
    expect(loadScriptsEnv({ NODE_ENV: '' }).apiProcessEnv.NODE_ENV).toBe('production')
  })

  test('an operator\'s own heap sizing wins', () => {
    expect(loadScriptsEnv({ BUN_JSC_forceRAMSize: '1000000000' }).apiProcessEnv.BUN_JSC_forceRAMSize).toBe('1000000000')
  })
})
