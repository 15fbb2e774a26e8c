import { treaty } from '@elysiajs/eden'
import type { App } from '../../server/app'

/** The typed API client: request and response types come from the server's t schemas. */
export const api = treaty<App>(window.location.origin)
