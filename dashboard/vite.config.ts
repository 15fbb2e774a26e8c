import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const api = `http://localhost:${process.env.API_PORT ?? 4000}`

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  // `bun run dev:dashboard` serves the sources with hot reload and forwards API calls.
  server: { proxy: { '/stats': api, '/health': api, '/event': api, '/events': api, '/admin': api, '/sites': api } },
})
