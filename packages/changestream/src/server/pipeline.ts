import { Aggregator, ProcessingMode } from 'mingo';
import { ChangeStreamError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import type { Document } from '../types.js';

/** Stages a change stream pipeline may hold after `$changeStream`, as in MongoDB. */
export const ALLOWED_STAGES: ReadonlySet<string> = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/** A compiled pipeline: the transformed event, or `null` when the event is filtered out. */
export type CompiledPipeline = (event: Document) => Document | null;

/** The pipeline of an empty stage list: every event unchanged. */
export const IDENTITY_PIPELINE: CompiledPipeline = (event) => event;

const SAMPLE_EVENT: Document = {
  _id: { _data: '0'.repeat(26) },
  operationType: 'insert',
  clusterTime: { t: 0, i: 0 },
  wallTime: new Date(0),
  fullDocument: { _id: 'sample', value: 0 },
  ns: { db: 'sample', coll: 'sample' },
  documentKey: { _id: 'sample' },
};

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Map an evaluation failure to MongoDB's codes: bad query operators are BadValue (2). */
export function pipelineError(error: unknown): ChangeStreamError {
  const message = describe(error);
  const code = /query operator/i.test(message) ? ErrorCode.BadValue : ErrorCode.InvalidPipelineOperator;
  return new ChangeStreamError(code, `invalid pipeline: ${message}`, { cause: error });
}

/**
 * Check and compile a pipeline. Throws `ChangeStreamError` (40324 for a stage that is unknown
 * or not allowed, 9 for a malformed stage, 2/168 for bad operators found on a trial run).
 */
export function compilePipeline(pipeline: readonly Document[]): CompiledPipeline {
  if (pipeline.length === 0) return IDENTITY_PIPELINE;
  for (const stage of pipeline) {
    const names = Object.keys(stage);
    if (names.length !== 1) {
      throw new ChangeStreamError(ErrorCode.FailedToParse, 'a pipeline stage must have exactly one field');
    }
    const name = names[0] as string;
    if (!ALLOWED_STAGES.has(name)) {
      throw new ChangeStreamError(
        ErrorCode.UnrecognizedPipelineStage,
        name.startsWith('$') ? `${name} is not permitted in a $changeStream pipeline` : `Unrecognized pipeline stage name: '${name}'`,
      );
    }
  }
  let stages: Aggregator[];
  // One aggregator per stage, so an event a stage drops (a `$redact` prune) stops there;
  // inputs are cloned because records are shared by every cursor and must never change.
  const run = (event: Document): Document | null => {
    let current: Document | undefined = event;
    for (const stage of stages) {
      [current] = stage.run([current]) as (Document | undefined)[];
      if (current === undefined || current === null) return null;
    }
    return current;
  };
  try {
    stages = pipeline.map(
      (stage, index) => new Aggregator([stage], { processingMode: index === 0 ? ProcessingMode.CLONE_INPUT : ProcessingMode.CLONE_OFF }),
    );
    run(SAMPLE_EVENT);
  } catch (error) {
    throw pipelineError(error);
  }
  return run;
}
