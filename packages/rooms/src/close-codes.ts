/**
 * Close codes the room server uses beyond the WebSocket standard ones. The 4400-4499
 * range tells y-websocket clients not to reconnect (the server decided for good).
 */

/** The connection was refused by `authenticate` (after a PermissionDenied message). */
export const CLOSE_PERMISSION_DENIED = 4403;
/** The client read too slowly and its send buffer overflowed; it may reconnect. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

const MAX_REASON_BYTES = 123;

/** Shorten a close reason to the 123 UTF-8 bytes a WebSocket close frame allows. */
export function closeReason(text: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= MAX_REASON_BYTES) return text;
  let end = text.length;
  while (end > 0 && encoder.encode(`${text.slice(0, end)}…`).length > MAX_REASON_BYTES) end--;
  return `${text.slice(0, end)}…`;
}
