import { StrictMode, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { useDailyStats } from './useDailyStats'

function App() {
  const [siteId, setSiteId] = useState('demo-site')
  const [date, setDate] = useState(new Date().toISOString().slice(0, 10))
  const state = useDailyStats(siteId, date)
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}>
      <h1>Analytics</h1>
      <form onSubmit={(event) => event.preventDefault()} style={{ display: 'flex', gap: '1rem', flexWrap: 'wrap' }}>
        <label>
          Site <input value={siteId} onChange={(event) => setSiteId(event.target.value)} />
        </label>
        <label>
          Day (UTC) <input type="date" value={date} onChange={(event) => setDate(event.target.value)} />
        </label>
      </form>
      {state.status === 'loading' && <p>Loading…</p>}
      {state.status === 'error' && <p role="alert">{state.message}</p>}
      {state.status === 'ready' && (
        <section>
          <p>
            <strong data-testid="total-views">{state.stats.total_views}</strong> views ·{' '}
            <strong data-testid="unique-users">{state.stats.unique_users}</strong> unique users
          </p>
          {state.stats.top_paths.length === 0 ? (
            <p>No page views on this day.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th align="left">Path</th>
                  <th align="right">Views</th>
                </tr>
              </thead>
              <tbody>
                {state.stats.top_paths.map((row) => (
                  <tr key={row.path}>
                    <td>{row.path}</td>
                    <td align="right">{row.views}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </main>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
