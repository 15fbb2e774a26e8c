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

  test('STATS_DATABASE_URL is optional; when set it must be a postgres URL, and a bad one stops the start with its name', () => {
    expect(loadServerEnv({}).statsDatabaseUrl).toBeUndefined()
    expect(loadServerEnv({ STATS_DATABASE_URL: ' ' }).statsDatabaseUrl).toBeUndefined()
    expect(loadServerEnv({ STATS_DATABASE_URL: 'postgres://reader@replica:5432/analytics' }).statsDatabaseUrl).toBe('postgres://reader@replica:5432/analytics')
    expect(() => loadServerEnv({ STATS_DATABASE_URL: 'replica:5432' })).toThrow('STATS_DATABASE_URL must start with postgres:// or postgresql://')
    expect(() => loadServerEnv({ STATS_DATABASE_URL: 'not a url' })).toThrow('STATS_DATABASE_URL is not a valid URL')
  })
})
