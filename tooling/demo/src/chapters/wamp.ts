import { ApplicationError, connect, Result, ticketAuth, type Client, type SubscriptionEvent } from '@rt/wamp';
import { Router, ticketAuthenticator } from '@rt/wamp/router';
import { waitFor } from '@rt/transport';
import type { Chapter } from '../chapter.js';

type Log = (line: string) => void;

const HOST = '127.0.0.1';
const STEP_TIMEOUT_MS = 5_000;

function within<T>(promise: PromiseLike<T>, what: string): Promise<T> {
  return waitFor(Promise.resolve(promise), { timeoutMs: STEP_TIMEOUT_MS, what });
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

async function rpc(log: Log, url: string): Promise<void> {
  const callee = await connect(url, { realm: 'demo', serializer: 'msgpack' });
  const caller = await connect(url, { realm: 'demo' });
  try {
    log(`callee joined as session ${callee.session?.id} (msgpack), caller as ${caller.session?.id} (json)`);
    await callee.register('demo.add', ({ args }) => (args[0] as number) + (args[1] as number));
    await callee.register('demo.countdown', async function* ({ args }) {
      for (let i = args[0] as number; i > 0; i--) yield i;
      return new Result(['liftoff'], { at: 'T+0' });
    });
    await callee.register('demo.divide', ({ args }) => {
      if (args[1] === 0) throw new ApplicationError('demo.error.division_by_zero', { args: ['cannot divide by zero'] });
      return (args[0] as number) / (args[1] as number);
    });
    const sum = await within(caller.call('demo.add', [40, 2]), 'demo.add');
    log(`call demo.add(40, 2) → ${JSON.stringify(sum.args)}`);
    expectEqual(sum.args, [42], 'demo.add');
    const countdown = caller.call('demo.countdown', [3], { receiveProgress: true });
    const steps: unknown[] = [];
    for await (const progress of countdown) steps.push(progress.args[0]);
    const final = await within(countdown, 'demo.countdown');
    log(`progressive call demo.countdown(3) → progress ${JSON.stringify(steps)}, final ${JSON.stringify(final.args)} ${JSON.stringify(final.kwargs)}`);
    expectEqual(steps, [3, 2, 1], 'countdown progress');
    await callee.register('demo.sum', async ({ args, inputs }) => {
      let total = args[0] as number;
      for await (const chunk of inputs) total += (chunk.args[0] as number | undefined) ?? 0;
      return total;
    });
    const upload = caller.call('demo.sum', [1], { progressive: true });
    upload.send([2]);
    upload.send([3]);
    upload.end([4]);
    const total = await within(upload, 'demo.sum');
    log(`progressive call invocation demo.sum: sent 1, 2, 3, 4 as four CALL chunks → ${JSON.stringify(total.args)}`);
    expectEqual(total.args, [10], 'demo.sum');
    const failure = await within(caller.call('demo.divide', [1, 0]).then(() => undefined, (error: unknown) => error), 'demo.divide');
    if (!(failure instanceof ApplicationError)) throw new Error('demo.divide(1, 0) should fail');
    log(`call demo.divide(1, 0) → ApplicationError ${failure.uri}: ${String(failure.args[0])}`);
  } finally {
    await caller.close();
    await callee.close();
  }
}

async function pubsub(log: Log, url: string): Promise<void> {
  const clients: Client[] = [];
  try {
    const publisher = await connect(url, { realm: 'demo' });
    const subscriber = await connect(url, { realm: 'demo' });
    clients.push(publisher, subscriber);
    const received: SubscriptionEvent[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    await subscriber.subscribe('demo.sensors.', (event) => {
      received.push(event);
      if (received.length === 2) done();
    }, { match: 'prefix' });
    log('subscriber subscribed to demo.sensors.* (prefix match)');
    await publisher.publish('demo.sensors.kitchen', [21.5], { acknowledge: true, discloseMe: true });
    await publisher.publish('demo.sensors.garage', [12.25], { kwargs: { unit: 'C' }, acknowledge: true });
    await within(all, 'events');
    for (const event of received) {
      log(`event on ${event.topic}: ${JSON.stringify(event.args)} ${JSON.stringify(event.kwargs)} publisher=${String(event.details['publisher'] ?? 'hidden')}`);
    }
    expectEqual(received.map((e) => e.topic), ['demo.sensors.kitchen', 'demo.sensors.garage'], 'topics in order');
    await publisher.publish('demo.status', ['online'], { retain: true, acknowledge: true });
    const late = await connect(url, { realm: 'demo' });
    clients.push(late);
    const retained = new Promise<SubscriptionEvent>((resolve) => {
      void late.subscribe('demo.status', resolve, { getRetained: true });
    });
    const status = await within(retained, 'retained event');
    log(`a late subscriber with getRetained got the retained event at once: ${JSON.stringify(status.args)} retained=${String(status.retained)}`);
    expectEqual(status.args, ['online'], 'retained event');
  } finally {
    for (const client of clients) await client.close();
  }
}

async function authAndMeta(log: Log): Promise<void> {
  const router = new Router({
    realms: ['secure'],
    auth: [ticketAuthenticator({ verify: (authid, ticket) => (authid === 'ada' && ticket === 'lovelace' ? 'engineer' : undefined) })],
  });
  const { url } = await router.listen({ host: HOST, port: 0 });
  try {
    const refused = await connect(url, { realm: 'secure', authid: 'ada', auth: ticketAuth('wrong') }).then(() => undefined, (error: unknown) => error);
    log(`wrong ticket → ${(refused as Error).message}`);
    const ada = await connect(url, { realm: 'secure', authid: 'ada', auth: ticketAuth('lovelace') });
    log(`right ticket → joined as ${ada.session?.authid} with role ${ada.session?.authrole}`);
    const count = await within(ada.call('wamp.session.count'), 'wamp.session.count');
    log(`meta API: wamp.session.count → ${JSON.stringify(count.args)}`);
    expectEqual(count.args, [1], 'session count');
    await ada.close();
  } finally {
    await router.close();
  }
}

export const chapter: Chapter = {
  title: 'wamp — a router, RPC with progressive results, progressive invocations and errors, prefix pub/sub, retained events, ticket auth',
  async run(log) {
    const router = new Router({ realms: ['demo'] });
    const address = await router.listen({ host: HOST, port: 0 });
    log(`router listening on ${address.url} (wamp.2.json, wamp.2.msgpack)`);
    try {
      log('▸ RPC: plain, progressive, failing');
      await rpc(log, address.url);
      log('▸ PubSub with a prefix subscription');
      await pubsub(log, address.url);
    } finally {
      await router.close();
    }
    log('▸ Ticket authentication and the session meta API');
    await authAndMeta(log);
  },
};
