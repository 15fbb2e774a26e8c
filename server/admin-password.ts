/**
 * The admin password when ADMIN_PASSWORD is not set: generated once, kept in a file only its owner
 * can read, and reused on later starts, so it survives restarts and never has to be printed.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export interface AdminPassword {
  password: string
  /** Where it came from: the environment, a file written by this start, or one kept from before. */
  source: 'env' | 'created' | 'file'
}

function readStored(file: string): string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const password = text.trim()
  if (!password) throw new Error(`The admin password file ${file} is empty; delete it to generate a new password, or set ADMIN_PASSWORD`)
  return password
}

export function loadAdminPassword(configured: string | undefined, file: string): AdminPassword {
  if (configured !== undefined) return { password: configured, source: 'env' }
  const stored = readStored(file)
  if (stored !== undefined) return { password: stored, source: 'file' }

  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const password = randomBytes(18).toString('base64url')
  // Written whole to a private temporary file, then linked into place: the link fails if another
  // API process got there first, so every process ends up with the same, complete password.
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, `${password}\n`, { mode: 0o600, flag: 'w' })
  try {
    linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { password: readStored(file)!, source: 'file' }
  } finally {
    unlinkSync(temporary)
  }
  return { password, source: 'created' }
}
