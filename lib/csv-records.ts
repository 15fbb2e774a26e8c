/**
 * Records in an RFC 4180 text (as server/csv.ts writes it), the header included: a line end inside
 * a quoted field does not end a record. The dashboard counts a page of a CSV answer with it.
 */
export function csvRecords(text: string): number {
  let records = 0
  let quoted = false
  for (const c of text) {
    if (c === '"') quoted = !quoted
    else if (c === '\n' && !quoted) records++
  }
  return text.length > 0 && !text.endsWith('\n') ? records + 1 : records
}
