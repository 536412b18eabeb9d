import { FaultProxy } from '@rt/test-harness';
import {
  CLOSE_ABNORMAL,
  ConnectionError,
  connectTcp,
  connectWebSocket,
  jsonCodec,
  listenTcp,
  listenWebSocket,
  NewlineFramer,
  ReconnectPolicy,
  Reconnector,
  waitFor,
  type Listener,
  type ReconnectStatus,
  type Transport,
  type TransportMessage,
} from '@rt/transport';
import type { Chapter } from '../chapter.js';

type Log = (line: string) => void;

const HOST = '127.0.0.1';
const STEP_TIMEOUT_MS = 5_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return waitFor(promise, { timeoutMs: STEP_TIMEOUT_MS, what });
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Answers every message with `reply(message)` until the connection closes. */
function serve(listener: Listener, reply: (message: TransportMessage) => TransportMessage): void {
  listener.onConnection((transport) => {
    void (async () => {
      for await (const message of transport) {
        if (transport.state === 'open') transport.write(reply(message));
      }
    })();
  });
}

async function request(client: Transport, message: TransportMessage): Promise<TransportMessage> {
  await client.send(message, { timeoutMs: STEP_TIMEOUT_MS });
  const reply = await client.receive({ timeoutMs: STEP_TIMEOUT_MS });
  if (reply === undefined) throw new Error('the connection closed before the reply');
  return reply;
}

async function webSocketRoundTrip(log: Log): Promise<void> {
  const listener = await listenWebSocket({ host: HOST, port: 0, path: '/calc', protocols: ['calc.v1'] });
  serve(listener, (message) => {
    const { a, b } = jsonCodec.decode(message) as { a: number; b: number };
    return jsonCodec.encode({ sum: a + b });
  });
  log(`WebSocket server listening on ${listener.url} (subprotocol calc.v1)`);
  const client = await connectWebSocket(listener.url, { protocols: ['calc.v2', 'calc.v1'], timeoutMs: STEP_TIMEOUT_MS });
  try {
    log(`client connected; negotiated subprotocol "${client.protocol}"`);
    expectEqual(client.protocol, 'calc.v1', 'negotiated subprotocol');
    for (const [a, b] of [[2, 3], [40, 2]] as const) {
      const reply = jsonCodec.decode(await request(client, jsonCodec.encode({ a, b })));
      log(`sent {a: ${a}, b: ${b}} → got ${JSON.stringify(reply)}`);
      expectEqual(reply, { sum: a + b }, 'sum');
    }
    const info = await client.close();
    log(`client closed: code ${info.code}, clean: ${info.wasClean}`);
    expectEqual(info.code, 1000, 'close code');
  } finally {
    client.abort();
    await listener.close();
  }
}

async function tcpRoundTrip(log: Log): Promise<void> {
  const listener = await listenTcp({ host: HOST, port: 0, framer: () => new NewlineFramer({ maxSize: 1024 }) });
  serve(listener, (message) => String(message).toUpperCase());
  log(`TCP server (newline framing) listening on ${listener.url}`);
  const client = await connectTcp({ host: HOST, port: listener.address.port, framer: new NewlineFramer({ maxSize: 1024 }) });
  try {
    for (const line of ['hello over tcp', 'one message per line']) {
      const reply = await request(client, line);
      log(`sent "${line}" → got "${String(reply)}"`);
      expectEqual(reply, line.toUpperCase(), 'echo');
    }
  } finally {
    await client.close();
    await listener.close();
  }
}

async function cutThroughProxy(log: Log): Promise<void> {
  const listener = await listenWebSocket({ host: HOST, port: 0 });
  serve(listener, (message) => message);
  const proxy = await FaultProxy.start({ target: listener.address });
  log(`fault proxy on ${proxy.url('ws')} in front of ${listener.url}`);
  const client = await connectWebSocket(proxy.url('ws'), { timeoutMs: STEP_TIMEOUT_MS });
  try {
    expectEqual(await request(client, 'before the cut'), 'before the cut', 'echo through the proxy');
    log('echo through the proxy works; now the proxy cuts every connection while a receive() waits');
    const pending = client.receive({ timeoutMs: STEP_TIMEOUT_MS });
    const cutAt = performance.now();
    proxy.cutAll();
    const received = await pending;
    const info = await within(client.closed, 'the client to notice the cut');
    const elapsed = Math.round(performance.now() - cutAt);
    log(`pending receive() settled with ${String(received)}; closed with code ${info.code} (clean: ${info.wasClean}) after ${elapsed} ms`);
    expectEqual(received, undefined, 'receive() after the cut');
    expectEqual(info.code, CLOSE_ABNORMAL, 'close code after a cut');
    try {
      client.write('after the cut');
      throw new Error('write() after the cut did not throw');
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      log(`write() afterwards throws ${error.name}: ${error.message}`);
    }
  } finally {
    client.abort();
    await proxy.close();
    await listener.close();
  }
}

async function reconnectWithBackoff(log: Log): Promise<void> {
  const listener = await listenWebSocket({ host: HOST, port: 0 });
  serve(listener, (message) => `echo: ${String(message)}`);
  const proxy = await FaultProxy.start({ target: listener.address });
  const policy = new ReconnectPolicy({ initialDelayMs: 40, maxDelayMs: 400, factor: 2, jitter: 0.25, maxAttempts: 8 });
  const reconnector = new Reconnector((signal) => connectWebSocket(proxy.url('ws'), { signal, timeoutMs: STEP_TIMEOUT_MS }), policy);
  const stopWatching = reconnector.on('status', (status: ReconnectStatus) => {
    if (status.state === 'waiting') {
      log(`  status: waiting ${status.delayMs} ms (${status.error?.message ?? 'connection lost'})`);
      // After three refused attempts the "server" comes back.
      if (proxy.refusedCount >= 3) proxy.refuseNew(false);
    } else if (status.state === 'connecting') log(`  status: connecting, attempt ${status.attempt}`);
    else log(`  status: ${status.state}`);
  });
  const nextOpen = (): Promise<Transport> => within(new Promise<Transport>((resolve) => reconnector.once('open', resolve)), 'a connection');
  log(`policy: first retry after ~${policy.initialDelayMs} ms, ×${policy.factor} each time, at most ${policy.maxDelayMs} ms, ${policy.maxAttempts} attempts`);
  try {
    const firstOpen = nextOpen();
    void reconnector.start();
    const first = await firstOpen;
    expectEqual(await request(first, 'one'), 'echo: one', 'first connection');
    log('connected and exchanged a message; now the proxy cuts it and refuses new connections');
    const secondOpen = nextOpen();
    proxy.refuseNew(true);
    proxy.cutAll();
    const second = await secondOpen;
    expectEqual(await request(second, 'two'), 'echo: two', 'after reconnecting');
    log(`reconnected after ${proxy.refusedCount} refused attempts and exchanged a message again`);
    if (proxy.refusedCount < 3) throw new Error(`expected at least 3 refused attempts, saw ${proxy.refusedCount}`);
  } finally {
    stopWatching();
    await reconnector.stop();
    await proxy.close();
    await listener.close();
  }
}

export const chapter: Chapter = {
  title: 'transport — WebSocket and TCP, a cut through the fault proxy, a reconnect',
  async run(log) {
    log('▸ WebSocket: a JSON "calc" server and a client negotiating a subprotocol');
    await webSocketRoundTrip(log);
    log('▸ TCP with newline framing');
    await tcpRoundTrip(log);
    log('▸ A cut: every connection reset by the fault proxy');
    await cutThroughProxy(log);
    log('▸ Reconnect with exponential backoff');
    await reconnectWithBackoff(log);
  },
};
