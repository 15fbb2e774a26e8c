import { describe, expect, test } from 'bun:test'
import { attachment, csvField, csvRecord, csvTable, fileNamePart } from './csv'

describe('RFC 4180 fields', () => {
  test.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['lone\nLF', '"lone\nLF"'],
    ['lone\rCR', '"lone\rCR"'],
    ['/ünï/页', '/ünï/页'],
    ["it's", "it's"],
  ])('%j is written %j', (value, written) => {
    expect(csvField(value)).toBe(written)
  })

  test('null is an empty field, numbers are written as JavaScript writes them', () => {
    expect(csvField(null)).toBe('')
    expect(csvField(0)).toBe('0')
    expect(csvField(33.3)).toBe('33.3')
    expect(csvField(1234567)).toBe('1234567')
  })
})

describe('CSV injection (OWASP): a text cell a spreadsheet would run gets a leading quote', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['=a,b', `"'=a,b"`],
  ])('%j is written %j', (value, written) => {
    expect(csvField(value)).toBe(written)
  })

  test('only the first character counts, and numbers are left alone', () => {
    expect(csvField('a=b')).toBe('a=b')
    expect(csvField(' =x')).toBe(' =x')
    expect(csvField('/-')).toBe('/-')
    expect(csvField(-1)).toBe('-1')
  })
})

test('a record ends with CRLF, its fields joined by commas', () => {
  expect(csvRecord(['a', null, 3, 'x,y'])).toBe('a,,3,"x,y"\r\n')
  expect(csvRecord([null])).toBe('\r\n')
})

test('a table is a header of the columns, then each row in their order', () => {
  const rows = [
    { value: '/home', visitors: 2, views: 3 },
    { value: '=cmd', visitors: 1, views: 0 },
  ]
  expect(csvTable(['value', 'visitors', 'views'], rows)).toBe('value,visitors,views\r\n/home,2,3\r\n\'=cmd,1,0\r\n')
  expect(csvTable(['value', 'visitors'], [])).toBe('value,visitors\r\n')
})

test('a table parses back to its rows (a reader of RFC 4180, field by field)', () => {
  const values = ['a"b', 'c,d', 'e\r\nf', '', 'g\nh', 'plain']
  const text = csvTable(['x'], values.map((x) => ({ x })))
  const parsed: string[] = []
  let i = 0
  const next = () => {
    if (text[i] === '"') {
      let field = ''
      i++
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') (field += '"'), (i += 2)
        else if (text[i] === '"') return i++, field
        else field += text[i++]
      }
    }
    const end = text.indexOf('\r\n', i)
    const field = text.slice(i, end)
    i = end
    return field
  }
  while (i < text.length) {
    parsed.push(next())
    expect(text.slice(i, i + 2)).toBe('\r\n')
    i += 2
  }
  expect(parsed).toEqual(['x', ...values])
})

test('download headers: a portable, quoted file name', () => {
  expect(fileNamePart('demo-site')).toBe('demo-site')
  expect(fileNamePart('props:plan')).toBe('props_plan')
  expect(fileNamePart('a/b\\c"d\ne été 💥')).toBe('a_b_c_d_e__t____')
  expect(attachment('demo-site_source_2025-11-14_2025-11-14.csv', 'text/csv; charset=utf-8')).toEqual({
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': 'attachment; filename="demo-site_source_2025-11-14_2025-11-14.csv"',
    'x-content-type-options': 'nosniff',
  })
})
