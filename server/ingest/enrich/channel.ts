import { DIRECT } from './source'

/**
 * The marketing channel of a visit, after the usual analytics channel grouping: the first rule that holds wins.
 * Sources are compared case-insensitively so a hand-typed `utm_source=google` counts as the named `Google`.
 */
const SEARCH = new Set(['google', 'bing', 'duckduckgo', 'yahoo!', 'yandex', 'ecosia', 'baidu', 'brave', 'qwant'])
const SOCIAL = new Set(['facebook', 'twitter', 'linkedin', 'reddit', 'hacker news', 'instagram', 'mastodon', 'pinterest'])
const PAID = /^(.*cp.*|ppc|retargeting|paid.*)$/
const SOCIAL_MEDIA = new Set(['social', 'social-network', 'social-media', 'sm', 'social network', 'social media'])
const EMAIL = /e[-_ ]?mail/
const DISPLAY = new Set(['display', 'banner', 'expandable', 'interstitial', 'cpm'])
const REFERRAL = new Set(['referral', 'app', 'link'])

export function channelOf(source: string, medium: string | null, hasReferrer: boolean): string {
  const m = medium?.toLowerCase() || null
  const s = source.toLowerCase()
  const search = SEARCH.has(s)
  const social = SOCIAL.has(s)
  const paid = m !== null && PAID.test(m)

  if (source === DIRECT && m === null) return 'Direct'
  if (search && paid) return 'Paid Search'
  if (social && paid) return 'Paid Social'
  if (search || m === 'organic') return 'Organic Search'
  if (social || (m !== null && SOCIAL_MEDIA.has(m))) return 'Organic Social'
  if (EMAIL.test(s) || (m !== null && (EMAIL.test(m) || m === 'newsletter'))) return 'Email'
  if (m === 'affiliate') return 'Affiliates'
  if (m !== null && DISPLAY.has(m)) return 'Display'
  if (paid) return 'Paid Other'
  if (hasReferrer || (m !== null && REFERRAL.has(m))) return 'Referral'
  return '(unassigned)'
}
