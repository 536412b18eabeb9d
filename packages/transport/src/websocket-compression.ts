import type { PerMessageDeflateOptions } from 'ws';
import type { WebSocketCompression } from './websocket-connect.js';

/** The `ws` setting for a compression choice. */
export function deflateSetting(compression: WebSocketCompression | undefined): false | PerMessageDeflateOptions {
  if (compression === undefined || compression === false) return false;
  const threshold = compression === true ? 1024 : (compression.threshold ?? 1024);
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError('compression threshold must be a non-negative integer');
  return { threshold };
}
