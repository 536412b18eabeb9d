import type { IncomingHttpHeaders } from 'node:http';

/**
 * The client's address as Meteor works it out (its `HTTP_FORWARDED_COUNT`). With no trusted
 * proxies (`forwardedCount` 0) it is the socket's peer address and `X-Forwarded-For` is
 * ignored, since any client can send one. Behind `forwardedCount` proxies, each appending the
 * address it saw, it is the entry that many places from the end of `X-Forwarded-For`;
 * `undefined` when the header is missing or shorter than that, as a proxy would never send it.
 */
export function clientAddressOf(
  remoteAddress: string | undefined,
  headers: IncomingHttpHeaders | undefined,
  forwardedCount: number,
): string | undefined {
  if (forwardedCount === 0) return remoteAddress;
  const header = headers?.['x-forwarded-for'];
  if (typeof header !== 'string') return undefined;
  const hops = header.split(',').map((hop) => hop.trim());
  if (forwardedCount > hops.length) return undefined;
  return hops[hops.length - forwardedCount] || undefined;
}
