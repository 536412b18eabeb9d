import type { IncomingMessage, Server } from 'node:http';
import { CLOSE_PROTOCOL_ERROR, listenWebSocket } from '@rt/transport';
import type { IncomingChannel, WireListener } from './wire.js';
import {
  DEFAULT_TOKEN_PARAM,
  decodeRoomPath,
  WebSocketWire,
  type WebSocketListen,
  type WebSocketWireOptions,
} from './websocket-wire.js';

/** Node options of the WebSocket wire, on top of the client ones. */
export interface WebSocketServerWireOptions extends WebSocketWireOptions {
  /** Share an existing HTTP server instead of creating one (several protocols on one port). */
  server?: Server;
}

/** Accept WebSocket connections and map each to its room by URL path. */
const listenRooms: WebSocketListen = async (wire, onChannel) => {
  const options = wire.options as WebSocketServerWireOptions;
  const listener = await listenWebSocket({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    ...(options.server ? { server: options.server } : {}),
    ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
    ...(options.protocols ? { protocols: options.protocols } : {}),
    ...(options.readHighWaterMark !== undefined ? { readHighWaterMark: options.readHighWaterMark } : {}),
    ...(options.writeHighWaterMark !== undefined ? { writeHighWaterMark: options.writeHighWaterMark } : {}),
  });
  const prefix = (options.path ?? '').replace(/\/+$/, '');
  const tokenParam = options.tokenParam ?? DEFAULT_TOKEN_PARAM;
  listener.onConnection((channel, info) => {
    const target = parseRequest(info.request, prefix, tokenParam);
    if (!target) {
      void channel.close(CLOSE_PROTOCOL_ERROR, 'the URL path names no room');
      return;
    }
    const incoming: IncomingChannel = {
      channel,
      roomId: target.roomId,
      token: target.token,
      remoteAddress: info.remoteAddress,
      request: info.request,
    };
    onChannel(incoming);
  });
  wire.boundPort = listener.address.port;
  const close = (): Promise<void> => listener.close();
  const result: WireListener = {
    port: listener.address.port,
    url: `ws://${listener.address.host}:${listener.address.port}${prefix}`,
    close,
    [Symbol.asyncDispose]: close,
  };
  return result;
};

function parseRequest(
  request: IncomingMessage | undefined,
  prefix: string,
  tokenParam: string,
): { roomId: string; token: string | undefined } | undefined {
  const url = new URL(request?.url ?? '/', 'http://localhost');
  if (prefix && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return undefined;
  const roomId = decodeRoomPath(url.pathname.slice(prefix.length + 1));
  if (roomId === undefined) return undefined;
  const token = url.searchParams.get(tokenParam) ?? bearerToken(request?.headers.authorization);
  return { roomId, token };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1];
}

/** Create a WebSocket wire that can both `bind` (Node) and `connect`. */
export function websocket(options: WebSocketServerWireOptions = {}): WebSocketWire {
  return new WebSocketWire(options, listenRooms);
}
