import { describe, expect, test } from 'bun:test'
import { DIRECT, referrerOf, sourceOf } from './source'

describe('sourceOf', () => {
  test('utm_source wins, returned as sent', () => {
    expect(sourceOf('www.google.com', 'Newsletter-Nov')).toBe('Newsletter-Nov')
    expect(sourceOf(null, 'google')).toBe('google')
  })

  test('an empty utm_source falls back to the referrer', () => {
    expect(sourceOf('github.com', '')).toBe('GitHub')
    expect(sourceOf(null, '')).toBe(DIRECT)
  })

  test('no referrer and no utm_source is direct', () => {
    expect(sourceOf(null, null)).toBe(DIRECT)
    expect(sourceOf('', null)).toBe(DIRECT)
  })

  const named: [string, string][] = [
    ['google.com', 'Google'],
    ['www.google.com', 'Google'],
    ['google.de', 'Google'],
    ['google.co.uk', 'Google'],
    ['www.google.co.uk', 'Google'],
    ['google.com.br', 'Google'],
    ['bing.com', 'Bing'],
    ['www.bing.com', 'Bing'],
    ['duckduckgo.com', 'DuckDuckGo'],
    ['search.yahoo.com', 'Yahoo!'],
    ['yandex.ru', 'Yandex'],
    ['yandex.com', 'Yandex'],
    ['yandex.com.tr', 'Yandex'],
    ['ecosia.org', 'Ecosia'],
    ['www.ecosia.org', 'Ecosia'],
    ['facebook.com', 'Facebook'],
    ['m.facebook.com', 'Facebook'],
    ['l.facebook.com', 'Facebook'],
    ['t.co', 'Twitter'],
    ['twitter.com', 'Twitter'],
    ['x.com', 'Twitter'],
    ['linkedin.com', 'LinkedIn'],
    ['www.linkedin.com', 'LinkedIn'],
    ['lnkd.in', 'LinkedIn'],
    ['reddit.com', 'Reddit'],
    ['www.reddit.com', 'Reddit'],
    ['old.reddit.com', 'Reddit'],
    ['news.ycombinator.com', 'Hacker News'],
    ['github.com', 'GitHub'],
    ['instagram.com', 'Instagram'],
    ['l.instagram.com', 'Instagram'],
    ['baidu.com', 'Baidu'],
    ['search.brave.com', 'Brave'],
    ['qwant.com', 'Qwant'],
    ['mastodon.social', 'Mastodon'],
    ['pinterest.com', 'Pinterest'],
    ['pinterest.fr', 'Pinterest'],
    ['pinterest.co.uk', 'Pinterest'],
  ]
  test.each(named)('%s is %s', (host, name) => expect(sourceOf(host, null)).toBe(name))

  test('hosts are compared lower case and without www.', () => {
    expect(sourceOf('WWW.Google.COM', null)).toBe('Google')
    expect(sourceOf('News.YCombinator.com', null)).toBe('Hacker News')
    expect(sourceOf('google.com.', null)).toBe('Google')
  })

  test('unknown hosts are the normalized host', () => {
    expect(sourceOf('example.com', null)).toBe('example.com')
    expect(sourceOf('WWW.Example.com', null)).toBe('example.com')
    expect(sourceOf('blog.example.co.uk', null)).toBe('blog.example.co.uk')
  })

  test('look-alike hosts are not named', () => {
    expect(sourceOf('google.evil.com', null)).toBe('google.evil.com')
    expect(sourceOf('notgoogle.com', null)).toBe('notgoogle.com')
    expect(sourceOf('mail.google.com', null)).toBe('mail.google.com')
    expect(sourceOf('fakefacebook.com', null)).toBe('fakefacebook.com')
    expect(sourceOf('yahoo.com', null)).toBe('yahoo.com')
  })
})

describe('referrerOf', () => {
  test('drops query string and fragment', () => {
    expect(referrerOf('https://news.ycombinator.com/item?id=1#comments')).toEqual({ url: 'https://news.ycombinator.com/item', host: 'news.ycombinator.com' })
  })

  test('lower-cases the host, keeps the path as sent', () => {
    expect(referrerOf('HTTPS://WWW.Google.COM/Search?q=x')).toEqual({ url: 'https://www.google.com/Search', host: 'www.google.com' })
  })

  test('drops user and password, keeps a non-default port in the URL only', () => {
    expect(referrerOf('https://user:secret@example.com/p')).toEqual({ url: 'https://example.com/p', host: 'example.com' })
    expect(referrerOf('http://localhost:3000/a')).toEqual({ url: 'http://localhost:3000/a', host: 'localhost' })
    expect(referrerOf('https://example.com:443/')).toEqual({ url: 'https://example.com/', host: 'example.com' })
  })

  test('keeps other schemes that have a host', () => {
    expect(referrerOf('android-app://com.Google.android.gm/')).toEqual({ url: 'android-app://com.google.android.gm/', host: 'com.google.android.gm' })
  })

  test('null for relative, host-less and malformed URLs', () => {
    for (const url of [
      '',
      '/path',
      'example.com/path',
      'mailto:a@example.com',
      'data:text/plain,hi',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://',
      'https://exa mple.com/',
    ]) {
      expect(referrerOf(url)).toBeNull()
    }
  })
})
