const integer = new Intl.NumberFormat()
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 })

/** 12345 → "12,345" in the reader's locale. */
export const formatCount = (value: number): string => integer.format(value)

/** 0.1234 → "12.3%". */
export const formatShare = (share: number): string => percent.format(share)
