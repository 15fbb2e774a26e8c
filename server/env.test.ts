import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { loadServerEnv } from './env'

const root = resolve(import.meta.dir, '..')

describe('the API environment', () => {
  test('listens on loopback unless API_HOST says otherwise', () => {
    expect(loadServerEnv({}).host).toBe('127.0.0.1')
    expect(loadServerEnv({ API_HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
  })

  test('keeps a generated admin password under the project root unless ADMIN_PASSWORD_FILE says where', () => {
    expect(loadServerEnv({}).adminPasswordFile).toBe(resolve(root, '.data/admin-password'))
    expect(loadServerEnv({ ADMIN_PASSWORD_FILE: 'secrets/pw' }).adminPasswordFile).toBe(resolve(root, 'secrets/pw'))
    expect(loadServerEnv({ ADMIN_PASSWORD_FILE: '/run/pw' }).adminPasswordFile).toBe('/run/pw')
    expect(loadServerEnv({ ADMIN_PASSWORD: ' ' }).adminPassword).toBeUndefined()
  })

  test('COUNTRY_HEADER is a header name, read lower case; anything else stops the start with its name', () => {
    expect(loadServerEnv({}).countryHeader).toBeNull()
    expect(loadServerEnv({ COUNTRY_HEADER: 'CF-IPCountry' }).countryHeader).toBe('cf-ipcountry')
    expect(() => loadServerEnv({ COUNTRY_HEADER: 'not a header' })).toThrow('COUNTRY_HEADER must be an HTTP header name')
  })
})
