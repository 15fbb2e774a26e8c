import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The API listens on loopback IPv4 by default (API_HOST); "localhost" may resolve to ::1 first.
const api = `http://127.0.0.1:${process.env.API_PORT ?? 4000}`

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
