import { isbot } from 'isbot'
import UAParser from 'ua-parser-js'

/**
 * What sent an event: a person's browser, a crawler, or a program posting over HTTP (a server-side integration,
 * a script). ua-parser-js stays on 1.x: 2.x is AGPL.
 */
export type Agent = { kind: 'browser' | 'bot' | 'client'; browser: string | null; os: string | null; deviceType: 'mobile' | 'tablet' | null }

/**
 * HTTP libraries and command-line tools. isbot counts most of them as bots, but here they are the product's own
 * server-side senders, so they are told apart first: by product token at the start, or as `name/version` anywhere.
 */
const CLIENT_TOKENS = [
  'curl',
  'wget',
  'wget2',
  'httpie',
  'python-requests',
  'python-urllib',
  'python-httpx',
  'aiohttp',
  'go-http-client',
  'okhttp',
  'axios',
  'node-fetch',
  'undici',
  'node',
  'got',
  'bun',
  'deno',
  'java',
  'java-http-client',
  'apache-httpclient',
  'libwww-perl',
  'guzzlehttp',
  'guzzle',
  'postmanruntime',
  'insomnia',
  'ruby',
  'faraday',
  'dart',
  'reqwest',
  'rest-client',
  'restsharp',
  'powershell',
  'windowspowershell',
]
const tokens = CLIENT_TOKENS.map((token) => token.replace(/[-.]/g, '\\$&')).join('|')
const CLIENT = new RegExp(`^(?:${tokens})(?:$|[/ ;(])|(?:^|[\\s(;])(?:${tokens})/\\d`, 'i')

/** Family names, so one browser is one row whatever its variant (mobile, webview, focus, GX...). */
function browserName(name: string | undefined): string | null {
  if (!name) return null
  if (name === 'Chrome' || name === 'Mobile Chrome' || name === 'Chrome WebView') return 'Chrome'
  if (name === 'Safari' || name === 'Mobile Safari') return 'Safari'
  if (name.startsWith('Firefox') || name === 'Mobile Firefox') return 'Firefox'
  if (name.startsWith('Edge')) return 'Edge'
  if (name.startsWith('Opera')) return 'Opera'
  if (name === 'Samsung Internet' || name === 'Samsung Browser') return 'Samsung Internet'
  return name
}

// Distributions show up only in some UAs (old Firefox builds), so naming them would split one audience.
const LINUX_DISTROS = new Set([
  'arch',
  'centos',
  'debian',
  'deepin',
  'elementary os',
  'fedora',
  'gentoo',
  'gnu',
  'kubuntu',
  'linpus',
  'linspire',
  'lubuntu',
  'mageia',
  'mandriva',
  'manjaro',
  'mint',
  'opensuse',
  'pclinuxos',
  'raspbian',
  'red hat',
  'redhat',
  'sabayon',
  'slackware',
  'suse',
  'ubuntu',
  'vectorlinux',
  'xubuntu',
  'zenwalk',
])

function osName(name: string | undefined, model: string | undefined): string | null {
  if (!name) return null
  if (name === 'Mac OS') return 'macOS'
  // iPads in desktop mode send a Mac UA and stay macOS; only an iPad UA can be told apart.
  if (name === 'iOS') return model === 'iPad' ? 'iPadOS' : 'iOS'
  if (name === 'Chromium OS' || name === 'Chrome OS') return 'ChromeOS'
  if (name === 'Linux' || LINUX_DISTROS.has(name.toLowerCase())) return 'Linux'
  return name
}

const CLIENT_AGENT: Agent = Object.freeze({ kind: 'client', browser: null, os: null, deviceType: null })

function parse(userAgent: string): Agent {
  if (!userAgent.trim() || CLIENT.test(userAgent)) return CLIENT_AGENT
  const { browser, os, device } = UAParser(userAgent)
  const deviceType = device.type === 'mobile' || device.type === 'tablet' ? device.type : null
  return {
    kind: isbot(userAgent) ? 'bot' : 'browser',
    browser: browserName(browser.name),
    os: osName(os.name, device.model),
    deviceType,
  }
}

/** ua-parser-js reads only this much; cutting the key here too bounds the cache's memory. */
const UA_MAX_LENGTH = 500
/** Parsing takes tens of µs, and the same few agents send most events. */
const CACHE_SIZE = 5_000
const cache = new Map<string, Agent>()

export function agentOf(userAgent: string): Agent {
  const key = userAgent.length > UA_MAX_LENGTH ? userAgent.slice(0, UA_MAX_LENGTH) : userAgent
  let agent = cache.get(key)
  if (agent) return agent
  agent = Object.freeze(parse(key))
  // Maps keep insertion order, so the first key is the oldest.
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(key, agent)
  return agent
}
