/**
 * docker-compose.yml is checked by the compose tool itself (there is no Docker engine to run it
 * here): with the .env a newcomer makes from .env.example it is valid, and until the passwords are
 * set it refuses to start, naming the first one missing.
 */
import { afterAll, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')
const compose = Bun.which('docker-compose')
const dir = mkdtempSync(join(tmpdir(), 'compose-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `docker-compose config -q` on a copy of the project's file, with the given .env beside it. */
function config(env: string | undefined) {
  copyFileSync(join(ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'))
  rmSync(join(dir, '.env'), { force: true })
  if (env !== undefined) writeFileSync(join(dir, '.env'), env)
  const run = Bun.spawnSync([compose!, 'config', '-q'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } })
  return { code: run.exitCode, output: `${run.stdout}${run.stderr}` }
}

const example = readFileSync(join(ROOT, '.env.example'), 'utf8')
const withPasswords = example.replace(
  /^(POSTGRES_ADMIN_PASSWORD|REDIS_PASSWORD|POSTGRES_PASSWORD)=.*$/gm,
  (_, name: string) => `${name}=${name.toLowerCase().replaceAll('_', '')}123`,
)

test.skipIf(!compose)('with .env made from .env.example and its passwords set, the file is valid', () => {
  expect(withPasswords).not.toBe(example)
  expect(config(withPasswords)).toEqual({ code: 0, output: '' })
})

test.skipIf(!compose)('without the passwords it refuses, naming what to set', () => {
  const unset = config(example)
  expect(unset.code).not.toBe(0)
  expect(unset.output).toContain('in .env')
})
