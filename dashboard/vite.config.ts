import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const api = `http://localhost:${process.env.API_PORT ?? 4000}`

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // The manifest tells report-size.ts which chunks load up front and which load on demand.
  build: { outDir: 'dist', emptyOutDir: true, manifest: true },
  // `bun run dev:dashboard` serves the sources with hot reload and forwards API calls.
  server: {
    proxy: Object.fromEntries(['/stats', '/sites', '/ingest', '/health', '/event', '/events', '/admin', '/login'].map((path) => [path, api])),
  },
})
