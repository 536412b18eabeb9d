import type { PublicationContext } from './publication-context.js';
import type { PublishableCursor } from './types.js';

function isCursor(value: unknown): value is PublishableCursor {
  const candidate = value as Partial<PublishableCursor> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.collectionName === 'string' &&
    typeof candidate.observeChanges === 'function'
  );
}

/** Publish what a publication returned: a cursor or an array of cursors, then `ready`. */
export async function publishCursors(context: PublicationContext, result: unknown): Promise<void> {
  const cursors = Array.isArray(result) ? result : [result];
  if (!cursors.every(isCursor)) throw new Error('a publication can only return a cursor or an array of cursors');
  for (const cursor of cursors) {
    const collection = cursor.collectionName;
    const handle = await cursor.observeChanges({
      added: (id, fields) => context.added(collection, id, fields),
      changed: (id, fields) => context.changed(collection, id, fields),
      removed: (id) => context.removed(collection, id),
    });
    if (context.stopped) handle.stop();
    else context.onStop(() => handle.stop());
  }
  context.ready();
}
