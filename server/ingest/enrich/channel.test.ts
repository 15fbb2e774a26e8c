import { describe, expect, test } from 'bun:test'
import { channelOf } from './channel'
import { DIRECT } from './source'

describe('channelOf', () => {
  test('1. direct: no source and no medium', () => {
    expect(channelOf(DIRECT, null, false)).toBe('Direct')
    expect(channelOf(DIRECT, '', false)).toBe('Direct')
  })

  test('2. paid search: a search source with a paid medium', () => {
    for (const medium of ['cpc', 'CPC', 'ppc', 'retargeting', 'paid', 'paidsearch', 'paid_search', 'cpm', 'cpv', 'xcpx']) {
      expect(channelOf('Google', medium, true)).toBe('Paid Search')
    }
    for (const source of ['Bing', 'DuckDuckGo', 'Yahoo!', 'Yandex', 'Ecosia', 'Baidu', 'Brave', 'Qwant'])
      expect(channelOf(source, 'cpc', true)).toBe('Paid Search')
  })

  test('search sources match case-insensitively (hand-typed utm_source)', () => {
    for (const source of ['google', 'GOOGLE', 'Google', 'bing', 'yahoo!']) expect(channelOf(source, 'cpc', false)).toBe('Paid Search')
    expect(channelOf('google', null, false)).toBe('Organic Search')
  })

  test('the paid pattern is anchored', () => {
    expect(channelOf('Google', 'unpaid', true)).toBe('Organic Search')
    expect(channelOf('Google', 'ppc2', true)).toBe('Organic Search')
  })

  test('3. paid social: a social source with a paid medium', () => {
    for (const source of ['Facebook', 'twitter', 'LinkedIn', 'Reddit', 'Hacker News', 'Instagram', 'Mastodon', 'Pinterest']) {
      expect(channelOf(source, 'paid-social', true)).toBe('Paid Social')
    }
    expect(channelOf('facebook', 'cpc', false)).toBe('Paid Social')
  })

  test('4. organic search: a search source, or medium organic', () => {
    expect(channelOf('Google', null, true)).toBe('Organic Search')
    expect(channelOf('DuckDuckGo', 'referral', true)).toBe('Organic Search')
    expect(channelOf('example.com', 'organic', true)).toBe('Organic Search')
    expect(channelOf('someengine', 'ORGANIC', false)).toBe('Organic Search')
  })

  test('5. organic social: a social source, or a social medium', () => {
    expect(channelOf('Twitter', null, true)).toBe('Organic Social')
    expect(channelOf('REDDIT', null, false)).toBe('Organic Social')
    for (const medium of ['social', 'social-network', 'social-media', 'sm', 'social network', 'Social Media']) {
      expect(channelOf('bsky.app', medium, true)).toBe('Organic Social')
    }
  })

  test('6. email: email in the source or medium, or medium newsletter', () => {
    expect(channelOf('email', null, false)).toBe('Email')
    expect(channelOf('Weekly-E-Mail', null, false)).toBe('Email')
    expect(channelOf('e_mail', null, false)).toBe('Email')
    expect(channelOf('spring e mail', null, false)).toBe('Email')
    expect(channelOf('acme', 'EMAIL', false)).toBe('Email')
    expect(channelOf('acme', 'newsletter', false)).toBe('Email')
    expect(channelOf(DIRECT, 'email', false)).toBe('Email')
  })

  test('7. affiliates', () => {
    expect(channelOf('partner.example', 'affiliate', true)).toBe('Affiliates')
  })

  test('8. display', () => {
    for (const medium of ['display', 'banner', 'expandable', 'interstitial', 'cpm']) expect(channelOf('adnetwork', medium, false)).toBe('Display')
  })

  test('9. paid other: a paid medium from any other source', () => {
    expect(channelOf('adnetwork', 'cpc', false)).toBe('Paid Other')
    expect(channelOf('example.com', 'paid', true)).toBe('Paid Other')
  })

  test('10. referral: a referrer, or medium referral/app/link', () => {
    expect(channelOf('example.com', null, true)).toBe('Referral')
    for (const medium of ['referral', 'app', 'LINK']) expect(channelOf('partner', medium, false)).toBe('Referral')
  })

  test('11. unassigned', () => {
    expect(channelOf('partner', null, false)).toBe('(unassigned)')
    expect(channelOf('partner', 'print', false)).toBe('(unassigned)')
    expect(channelOf(DIRECT, 'qr', false)).toBe('(unassigned)')
  })

  describe('ordering', () => {
    test('cpm from a search source is paid search, since cpm matches .*cp.*', () => expect(channelOf('google', 'cpm', false)).toBe('Paid Search'))
    test('cpm from a social source is paid social', () => expect(channelOf('Facebook', 'cpm', true)).toBe('Paid Social'))
    test('cpm from an unknown source is display (rule 8 before 9)', () => expect(channelOf('adnetwork', 'cpm', true)).toBe('Display'))
    test('a search source with a social medium is organic search (rule 4 before 5)', () => expect(channelOf('Google', 'social', true)).toBe('Organic Search'))
    test('a social source with an email medium is organic social (rule 5 before 6)', () => expect(channelOf('LinkedIn', 'email', true)).toBe('Organic Social'))
    test('an email source with a paid medium is email (rule 6 before 9)', () => expect(channelOf('email', 'cpc', false)).toBe('Email'))
    test('medium organic with a social source is organic search (rule 4 before 5)', () => expect(channelOf('Facebook', 'organic', true)).toBe('Organic Search'))
    test('a paid medium with a referrer is paid other, not referral', () => expect(channelOf('example.com', 'ppc', true)).toBe('Paid Other'))
    test('direct with a medium falls through the later rules', () => {
      expect(channelOf(DIRECT, 'cpc', false)).toBe('Paid Other')
      expect(channelOf(DIRECT, 'organic', false)).toBe('Organic Search')
      expect(channelOf(DIRECT, 'referral', false)).toBe('Referral')
    })
  })
})
