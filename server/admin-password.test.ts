import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadAdminPassword } from './admin-password'

const base = mkdtempSync(join(tmpdir(), 'admin-password-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('the admin password file', () => {
  test('is created once, owner-only, in an owner-only directory, and reused afterwards', () => {
    const file = join(base, 'first', 'nested', 'admin-password')
    const created = loadAdminPassword(undefined, file)
    expect(created.source).toBe('created')
    expect(created.password.length).toBeGreaterThanOrEqual(24)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(base, 'first', 'nested')).mode & 0o777).toBe(0o700)
    expect(loadAdminPassword(undefined, file)).toEqual({ password: created.password, source: 'file' })
    // No temporary file is left beside it.
    expect(readdirSync(join(base, 'first', 'nested'))).toEqual(['admin-password'])
  })

  test('ADMIN_PASSWORD wins and no file is written', () => {
    const file = join(base, 'configured', 'admin-password')
    expect(loadAdminPassword('chosen', file)).toEqual({ password: 'chosen', source: 'env' })
    expect(() => statSync(join(base, 'configured'))).toThrow()
  })

  test('an empty file stops the start with a message naming it', () => {
    const file = join(base, 'empty-password')
    writeFileSync(file, '\n', { mode: 0o600 })
    expect(() => loadAdminPassword(undefined, file)).toThrow(`The admin password file ${file} is empty`)
  })
})
