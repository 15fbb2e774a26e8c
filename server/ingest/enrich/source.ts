/**
 * Where a visit came from: the utm_source it was tagged with, else the referrer's site, named when it is a
 * well-known one. The names are a hand-kept table: the shipped referrer lists on npm are Snowplow's
 * referers.yml or copies of it, which derives from Piwik's GPLv3 lists.
 */
export const DIRECT = 'Direct / None'

/** Exact hosts (after lower-casing and dropping `www.`). */
const NAMED_HOSTS: Record<string, string> = {
  'bing.com': 'Bing',
  'duckduckgo.com': 'DuckDuckGo',
  'search.yahoo.com': 'Yahoo!',
  'ecosia.org': 'Ecosia',
  'baidu.com': 'Baidu',
  'm.baidu.com': 'Baidu',
  'search.brave.com': 'Brave',
  'qwant.com': 'Qwant',
  'facebook.com': 'Facebook',
  'm.facebook.com': 'Facebook',
  'l.facebook.com': 'Facebook',
  'lm.facebook.com': 'Facebook',
  't.co': 'Twitter',
  'twitter.com': 'Twitter',
  'mobile.twitter.com': 'Twitter',
  'x.com': 'Twitter',
  'linkedin.com': 'LinkedIn',
  'lnkd.in': 'LinkedIn',
  'reddit.com': 'Reddit',
  'old.reddit.com': 'Reddit',
  'out.reddit.com': 'Reddit',
  'news.ycombinator.com': 'Hacker News',
  'github.com': 'GitHub',
  'instagram.com': 'Instagram',
  'l.instagram.com': 'Instagram',
  'mastodon.social': 'Mastodon',
}

/** Sites with a domain per country: `name.TLD` or `name.co.TLD` / `name.com.TLD`. */
const NAMED_BY_COUNTRY: [RegExp, string][] = [
  [/^google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$/, 'Google'],
  [/^yandex\.(?:[a-z]{2,3}|com\.[a-z]{2})$/, 'Yandex'],
  [/^pinterest\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$/, 'Pinterest'],
]

function nameOfHost(host: string): string | undefined {
  const named = NAMED_HOSTS[host]
  if (named) return named
  for (const [pattern, name] of NAMED_BY_COUNTRY) if (pattern.test(host)) return name
  return undefined
}

export function sourceOf(referrerHost: string | null, utmSource: string | null): string {
  if (utmSource) return utmSource
  if (!referrerHost) return DIRECT
  // A trailing dot is the same host in DNS.
  const host = referrerHost
    .toLowerCase()
    .replace(/^www\./, '')
    .replace(/\.$/, '')
  if (!host) return DIRECT
  return nameOfHost(host) ?? host
}

/**
 * The referrer without query string and fragment (they can carry search terms and tokens), and its host name
 * (without port, so one site is one source). Non-web schemes with a host are kept: Android apps refer as
 * `android-app://com.google.android.gm/`.
 */
export function referrerOf(url: string): { url: string; host: string } | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (!parsed.hostname) return null
  const host = parsed.host.toLowerCase()
  // protocol + host rather than origin: origin is 'null' for non-web schemes; both leave out user and password.
  return { url: `${parsed.protocol}//${host}${parsed.pathname}`, host: parsed.hostname.toLowerCase() }
}
