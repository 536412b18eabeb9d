import { DDPClient, DDPError, type CollectionEvent } from '@rt/ddp';
import { DDPServer, type PublicationContext } from '@rt/ddp/server';
import { FaultProxy } from '@rt/test-harness';
import { waitFor } from '@rt/transport';
import type { Chapter } from '../chapter.js';

const HOST = '127.0.0.1';
const STEP_TIMEOUT_MS = 5_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return waitFor(promise, { timeoutMs: STEP_TIMEOUT_MS, what });
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected ${what}`);
}

interface Task {
  title: string;
  owner: string;
  done: boolean;
  due: Date;
}

/** An in-memory task list whose publications follow every write. */
class TaskStore {
  readonly tasks = new Map<string, Task>();
  readonly #watchers = new Set<(id: string, task: Task | undefined) => void>();
  #next = 1;

  insert(task: Task): string {
    const id = `t${this.#next++}`;
    this.tasks.set(id, task);
    for (const watcher of this.#watchers) watcher(id, task);
    return id;
  }

  update(id: string, fields: Partial<Task>): void {
    const task = this.tasks.get(id);
    if (!task) throw new DDPError('not-found', `no task ${id}`);
    const next = { ...task, ...fields };
    this.tasks.set(id, next);
    for (const watcher of this.#watchers) watcher(id, next);
  }

  /** Publish the tasks of `owner` into the `tasks` collection, live. */
  publish(context: PublicationContext, owner: string): void {
    const visible = new Set<string>();
    const show = (id: string, task: Task | undefined): void => {
      const mine = task !== undefined && task.owner === owner;
      if (mine && !visible.has(id)) {
        visible.add(id);
        context.added('tasks', id, { ...task });
      } else if (mine) {
        context.changed('tasks', id, { ...task });
      } else if (visible.delete(id)) {
        context.removed('tasks', id);
      }
    };
    for (const [id, task] of this.tasks) show(id, task);
    this.#watchers.add(show);
    context.onStop(() => {
      this.#watchers.delete(show);
    });
    context.ready();
  }
}

function describeEvent(event: CollectionEvent): string {
  switch (event.type) {
    case 'added':
      return `added ${event._id} ${JSON.stringify(event.fields)}`;
    case 'changed':
      return `changed ${event._id} ${JSON.stringify(event.fields)}${event.cleared.length ? ` cleared ${event.cleared.join(',')}` : ''}`;
    case 'removed':
      return `removed ${event._id}`;
  }
}

export const chapter: Chapter = {
  title: 'DDP: a Meteor-style server and a reconnecting client (@rt/ddp)',
  async run(log) {
    const store = new TaskStore();
    store.insert({ title: 'write the README', owner: 'ada', done: false, due: new Date('2026-12-01T00:00:00Z') });
    store.insert({ title: 'someone else’s task', owner: 'bob', done: false, due: new Date('2026-12-02T00:00:00Z') });

    const server = new DDPServer({
      login(request) {
        if (request.kind === 'password' && request.user.username === 'ada') return { userId: 'ada', token: 'resume-ada' };
        if (request.kind === 'resume' && request.token === 'resume-ada') return { userId: 'ada', token: 'resume-ada' };
        throw new DDPError(403, 'Login refused');
      },
    });
    server.publish('myTasks', function () {
      if (this.userId) store.publish(this, this.userId);
      else this.ready();
    });
    server.methods({
      addTask(title: string, due: Date) {
        if (!this.userId) throw new DDPError('not-authorized', 'log in first');
        return store.insert({ title, owner: this.userId, done: false, due });
      },
      complete(id: string) {
        store.update(id, { done: true });
      },
      rename(id: string, title: string) {
        store.update(id, { title });
      },
    });
    // Meteor's DDPRateLimiter: two addTask calls per connection per minute (refused ones count too).
    server.rateLimiter.addRule({ type: 'method', name: 'addTask', connectionId: () => true }, 2, 60_000);
    const address = await server.listen({ host: HOST, port: 0 });
    const proxy = await FaultProxy.start({ target: address });
    log(`DDP server on ws://${address.host}:${address.port}/websocket, reached through a fault proxy on port ${proxy.port}`);

    const client = new DDPClient(proxy.url('ws', '/websocket'), { reconnect: { minDelayMs: 20 } });
    try {
      client.on('status', (status) => log(`  status: ${status.status}${status.retryCount ? ` (retry ${status.retryCount})` : ''}`));
      await within(client.connect(), 'connect');
      log(`connected with DDP version ${client.version}, session ${client.sessionId}`);

      const tasks = client.getCollection('tasks');
      tasks.onChange((event) => log(`  event: ${describeEvent(event)}`));
      const subscription = client.subscribe('myTasks');
      await within(subscription.wait(), 'subscription');
      log(`subscribed as nobody: ${tasks.size} tasks visible`);

      const refused = await client.call('addTask', 'sneaky', new Date()).catch((error: unknown) => error);
      check(refused instanceof DDPError && refused.error === 'not-authorized', 'addTask to be refused before login');
      log(`addTask before login was refused: ${(refused as Error).message}`);

      const login = await within(client.loginWithPassword('ada', 'correct horse'), 'login');
      log(`logged in as ${login.userId}; the publication re-ran: ${tasks.size} task visible`);
      check(tasks.size === 1, 'one task after login');

      const call = client.apply<string>('addTask', ['try the demo', new Date('2026-12-24T00:00:00Z')]);
      const id = await within(call, 'addTask');
      await within(call.updated, 'updated');
      const added = tasks.get(id);
      check(added !== undefined && added['due'] instanceof Date, 'the new task, with its EJSON date, in the collection once updated');
      log(`addTask returned ${id}; once 'updated' arrived the document was there, due ${(added?.['due'] as Date).toISOString()}`);

      // A method stub: the client applies the rename at once, then takes the server's version.
      client.methods({
        rename(taskId: string, title: string) {
          this.collection('tasks').update(taskId, { title });
        },
      });
      const rename = client.apply('rename', [id, 'try the demo today']);
      check(tasks.get(id)?.['title'] === 'try the demo today', 'the stub to show the new title before the server answers');
      log('rename: the stub showed the new title at once (latency compensation), before the server answered');
      await within(rename.updated, 'rename updated');
      check(tasks.get(id)?.['title'] === 'try the demo today', "the server's version after updated");
      log("rename: after 'updated' the server's version replaced the simulated one (the same title, so no event)");

      const open = tasks.find({ done: false }, { sort: { due: 1 }, fields: { title: 1 } }).fetch();
      check(open.length === 2 && open[0]?.['title'] === 'write the README', 'a Minimongo query over the collection');
      log(`find({ done: false }, { sort: { due: 1 } }): ${open.map((task) => String(task['title'])).join(', ')}`);

      const limited = await client.call('addTask', 'one too many', new Date()).catch((error: unknown) => error);
      check(limited instanceof DDPError && limited.error === 'too-many-requests', 'the third addTask in a minute to be rate limited');
      log(`a third addTask within the minute was refused: ${(limited as DDPError).reason ?? ''}`);

      log('cutting every connection through the proxy while the server changes data...');
      const reconnected = new Promise((resolve) => client.once('connected', resolve));
      proxy.cutAll();
      store.update(id, { done: true });
      await within(reconnected, 'reconnect');
      await within(
        new Promise<void>((resolve) => {
          const off = tasks.onChange(() => {
            if (tasks.get(id)?.['done'] !== true) return;
            off();
            resolve();
          });
        }),
        're-sync',
      );
      log(`reconnected as ${client.userId} (resume token sent first); only the real change was reported`);

      const once = client.apply('complete', [id], { noRetry: true });
      await within(once, 'complete');
      log('a noRetry call completed (cut mid-flight, it would fail with InvocationFailedError instead of running twice)');
      await subscription.stop();
      log(`stopped the subscription: ${tasks.size} tasks left in the collection`);
    } finally {
      await client.disconnect();
      await proxy.close();
      await server.close();
    }
  },
};
