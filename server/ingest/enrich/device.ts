import type { Agent } from './user-agent'

/**
 * The kind of screen a visit used. The posted screen width says more than the user agent (a phone in desktop
 * mode, a laptop-sized tablet), so it wins; without it the user agent's device type is all there is.
 */
export function deviceOf(screenWidth: number | undefined | null, deviceType: Agent['deviceType']): string | null {
  if (typeof screenWidth === 'number' && Number.isFinite(screenWidth) && screenWidth > 0) {
    if (screenWidth < 576) return 'Mobile'
    if (screenWidth < 992) return 'Tablet'
    if (screenWidth < 1440) return 'Laptop'
    return 'Desktop'
  }
  if (deviceType === 'mobile') return 'Mobile'
  if (deviceType === 'tablet') return 'Tablet'
  return null
}
