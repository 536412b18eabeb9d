/**
 * `@rt/changestream/server` (Node only): the change stream gateway and its sources.
 * @packageDocumentation
 */
export { ChangeStreamServer } from './server/change-stream-server.js';
export type { ChangeStreamServerOptions } from './server/change-stream-server.js';
export type { Authorize, AuthorizeRequest } from './server/session.js';
export type { ChangeRecord, ChangeSink, ChangeSource, SourceAttachment } from './server/source.js';
export { ChangeLog, DEFAULT_LOG_RETENTION } from './server/change-log.js';
export { DEFAULT_COMPACT_AFTER_BYTES, DEFAULT_STORE_RETENTION } from './server/retention.js';
export type { RetentionPolicy } from './server/retention.js';
export type { ChangeLogOptions } from './server/change-log.js';
export { ALLOWED_STAGES, compilePipeline } from './server/pipeline.js';
export type { CompiledPipeline } from './server/pipeline.js';
export { EmbeddedStore } from './server/embedded-store.js';
export type { EmbeddedStoreOptions } from './server/embedded-store.js';
export { EmbeddedCollection, EmbeddedDb } from './server/embedded-collection.js';
export type { DeleteResult, InsertManyOptions, InsertManyResult, InsertOneResult, UpdateOptions, UpdateResult } from './server/embedded-collection.js';
export { BulkWriteError, WriteError } from './server/write-error.js';
export type { BulkWriteErrorDetail } from './server/write-error.js';
export { DurableLog, frameRecord, readRecords } from './server/durable-log.js';
export type { DurableLogOptions } from './server/durable-log.js';
export { makeTokenData, splitTokenData, ORIGIN_TOKEN_DATA } from './token.js';
export { ChangeStreamError, ErrorCode } from './index.js';
export { RedisStreamSource, publishRedisChange, redisTokenData, REDIS_CHANGE_FIELD } from './server/redis-source.js';
export type { RedisChange, RedisStreamSourceOptions } from './server/redis-source.js';
export { PostgresSource, parseLsn } from './server/postgres-source.js';
export type { PostgresSourceOptions } from './server/postgres-source.js';
