import { describe, expect, test } from 'bun:test'
import { loadServerEnv } from './env'

describe('the API environment', () => {
  test('listens on loopback unless API_HOST says otherwise', () => {
    expect(loadServerEnv({}).host).toBe('127.0.0.1')
    expect(loadServerEnv({ API_HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
  })
})
