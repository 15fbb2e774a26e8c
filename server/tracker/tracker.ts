/**
 * The browser tracker, served as GET /script.js (routes.ts strips its types once at startup).
 * A site embeds it as
 *
 *   <script defer src="https://analytics.example/script.js" data-site="my-site"></script>
 *
 * and may add data-api="https://collect.example" to send events to another origin than the one
 * the script was loaded from. It sends a page_view on load and on each single-page-app
 * navigation (with the window's width, the URL's utm_* tags, and on the first one the referring
 * page when it is another site), and exposes window.analyticsTracker.track(eventType, path?, props?) for custom events (props: custom properties), also
 * as window.analytics.track when the page has no window.analytics of its own.
 *
 * It runs inside pages we do not own, as a classic script: everything lives in this function
 * (those two names are its only globals) and nothing it does may throw into the host page.
 */
;(() => {
  let endpoint = ''
  let site = ''
  let lastPath: string | undefined
  // Where the visitor came from, sent once: later page views of this load come from the page itself.
  let referrer = ''

  function newEventId(): string {
    // randomUUID only exists in secure contexts; plain-http sites get 128 random bits in hex.
    if (crypto.randomUUID) return crypto.randomUUID()
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
  }

  // The path is location.pathname without the query string or fragment: those often carry
  // personal data (e-mail addresses, reset tokens) and campaign tags that would split one page
  // into many rows of the top paths. Campaign tags go in fields of their own.
  function send(eventType: string, path: string, from?: string, props?: Record<string, string | number | boolean>): void {
    try {
      if (!endpoint) return
      // A fresh event_id per event (not per attempt), so a browser retry cannot count twice. No
      // cookie or storage identifies the visitor: the API derives a daily visitor id instead.
      const event: Record<string, unknown> = {
        site_id: site,
        event_type: eventType,
        path,
        timestamp: new Date().toISOString(),
        event_id: newEventId(),
        derive_user_id: true,
      }
      // Read from the URL of each event, as Plausible does; cut to the API's 256 characters
      // rather than have a long tag refuse the whole event.
      const query = new URLSearchParams(location.search)
      for (const tag of ['source', 'medium', 'campaign', 'content', 'term']) {
        const value = query.get(`utm_${tag}`)
        // Without a high surrogate left at the cut, which the API would refuse.
        if (value) event[`utm_${tag}`] = value.slice(0, 256).replace(/[\ud800-\udbff]$/, '')
      }
      // Hidden frames can report 0, which the API refuses.
      if (innerWidth > 0) event.screen_width = innerWidth
      if (from) event.referrer = from
      if (props) event.props = props
      const json = JSON.stringify(event)
      // text/plain is a CORS-safelisted type, so neither way sends a preflight. sendBeacon
      // survives the page being closed; it returns false when the browser will not queue it.
      if (!navigator.sendBeacon?.(endpoint, new Blob([json], { type: 'text/plain' }))) {
        fetch(endpoint, { method: 'POST', body: json, keepalive: true, headers: { 'content-type': 'text/plain' } }).catch(() => {})
      }
    } catch {
      // Analytics must never break the page it measures.
    }
  }

  function track(eventType: string, path = location.pathname, props?: Record<string, string | number | boolean>): void {
    send(eventType, path, undefined, props)
  }

  // A navigation that keeps the path (a query-only pushState, a replaceState normalising the
  // URL, a hash change followed by back) is no new page view.
  function pageView(): void {
    if (location.pathname === lastPath) return
    lastPath = location.pathname
    send('page_view', lastPath, referrer)
    referrer = ''
  }

  try {
    // Defined first and even when tracking is off, so the host's calls never fail. Segment's
    // snippet, among others, owns window.analytics: taking it over would break that tool.
    const api = { track }
    Object.assign(window, { analyticsTracker: api })
    if (!('analytics' in window)) Object.assign(window, { analytics: api })
    // currentScript is null when the tracker is loaded as a module or by some tag managers.
    const script = (document.currentScript ?? document.querySelector('script[data-site]')) as HTMLScriptElement | null
    site = script?.dataset.site ?? ''
    // Do Not Track is honoured (nothing at all is sent): it is an explicit request from the
    // visitor, and the few browsers that still send it are a negligible share of traffic.
    if (!script || !site || navigator.doNotTrack === '1') return
    endpoint = new URL('/event', script.dataset.api || script.src).href
    // A link within the site is no source; the host is compared so that http→https counts as internal.
    // Only its origin and path are kept (by the API too), and they fit the API's 2048 characters.
    const from = document.referrer ? new URL(document.referrer) : null
    if (from && from.host !== location.host) referrer = (from.origin + from.pathname).slice(0, 2048)

    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method]
      history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
        // The host's own errors (e.g. a cross-origin URL) are its to see, so they propagate.
        original.apply(this, args)
        pageView()
      }
    }
    addEventListener('popstate', pageView)

    // Chrome may prerender a page the visitor never opens: count it only once it is shown.
    if ((document as Document & { prerendering?: boolean }).prerendering) {
      document.addEventListener('prerenderingchange', pageView, { once: true })
    } else {
      pageView()
    }
  } catch {
    // As in track(): a page where the tracker cannot start simply goes unmeasured.
  }
})()
