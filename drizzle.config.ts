import { defineConfig } from 'drizzle-kit'

// Only `drizzle-kit generate` is used; migrations are applied by drizzle/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/schema.ts',
  out: './drizzle/migrations',
})
