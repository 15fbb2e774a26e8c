import type { UrlNotice } from '../urlView'

/**
 * What the link that opened this view held but could not be used, each naming its parameter and
 * what is shown instead, so a mistyped or outdated link is never silently something else.
 */
export function UrlNotices({ notices, usedFor }: { notices: UrlNotice[]; usedFor: (notice: UrlNotice) => string }) {
  if (notices.length === 0) return null
  return (
    <ul className="url-notices" role="status" aria-label="Link problems">
      {notices.map((notice) => (
        <li key={`${notice.parameter}:${notice.given}`} data-testid="url-notice" data-parameter={notice.parameter}>
          <code>{notice.parameter}</code> “{notice.given}” {notice.problem}: showing {notice.used ?? usedFor(notice)} instead.
        </li>
      ))}
    </ul>
  )
}
