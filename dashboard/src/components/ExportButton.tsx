import { useState } from 'react'
import { Problem } from './Panel'
import { downloadViewZip, type ExportQuery } from '../exportView'

/** Downloads the current view as a zip of CSVs (the time series and every breakdown), as the API writes them. */
export function ExportButton({ query }: { query: ExportQuery }) {
  const [state, setState] = useState<{ busy: boolean; problem: string | null }>({ busy: false, problem: null })
  const run = async () => {
    setState({ busy: true, problem: null })
    try {
      await downloadViewZip(query)
      setState({ busy: false, problem: null })
    } catch (error) {
      setState({ busy: false, problem: error instanceof Error ? error.message : String(error) })
    }
  }
  return (
    <div className="export">
      <button type="button" onClick={run} disabled={state.busy} data-testid="export-button">
        {state.busy ? 'Exporting…' : 'Export CSV'}
      </button>
      <Problem message={state.problem} />
    </div>
  )
}
