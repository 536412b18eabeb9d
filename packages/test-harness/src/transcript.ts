import { formatValue } from './matcher.js';

/** One event on a scripted connection, in the order it happened. */
export type TranscriptEntry =
  /** A message arrived from the client (decoded with the codec, when one is set). */
  | { kind: 'received'; message: unknown; at: number }
  /** The server sent a message (before encoding). */
  | { kind: 'sent'; message: unknown; at: number }
  /** The server wrote raw bytes on the socket. */
  | { kind: 'sent-raw'; bytes: Uint8Array; at: number }
  /** The server closed the connection on purpose. */
  | { kind: 'server-closed'; code: number; reason: string; at: number }
  /** The server reset the connection. */
  | { kind: 'server-cut'; at: number }
  /** The connection ended (whoever ended it). */
  | { kind: 'closed'; code: number; reason: string; wasClean: boolean; at: number }
  /** A step failed; the script stopped here. */
  | { kind: 'failed'; step: number; message: string; at: number };

/**
 * Render a transcript as indented lines for error messages: `←` received, `→` sent.
 *
 * @param entries - the transcript
 * @param limit - keep only the last `limit` entries (default 30)
 */
export function formatTranscript(entries: readonly TranscriptEntry[], limit = 30): string {
  const shown = entries.slice(-limit);
  const lines = shown.map((entry) => {
    const at = `${String(entry.at).padStart(5)} ms`;
    switch (entry.kind) {
      case 'received':
        return `  ${at}  ← ${formatValue(entry.message)}`;
      case 'sent':
        return `  ${at}  → ${formatValue(entry.message)}`;
      case 'sent-raw':
        return `  ${at}  → raw ${formatValue(entry.bytes)}`;
      case 'server-closed':
        return `  ${at}  server closed (${entry.code}${entry.reason ? ` ${entry.reason}` : ''})`;
      case 'server-cut':
        return `  ${at}  server cut the connection`;
      case 'closed':
        return `  ${at}  connection closed (${entry.code}${entry.reason ? ` ${entry.reason}` : ''}${entry.wasClean ? '' : ', not clean'})`;
      case 'failed':
        return `  ${at}  step ${entry.step} FAILED`;
    }
  });
  if (entries.length > shown.length) lines.unshift(`  … ${entries.length - shown.length} earlier entries`);
  return lines.join('\n');
}
