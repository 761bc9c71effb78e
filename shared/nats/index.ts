export { connectNats, NatsUnreachableError, NATS_RECONNECT_WAIT_MS, NATS_CONNECT_TIMEOUT_MS } from './connect.ts';
export { STREAMS, subject, streamName, streamConfig, ensureStreams, deleteStreams, STREAM_DUPLICATE_WINDOW_MS, type StreamKey, type StreamLimitOverrides } from './streams.ts';
export { publish, type PublishOptions } from './publish.ts';
export { traceHeaders, traceIdOf, newTraceId, TRACE_ID_HEADER } from './trace.ts';
export { startBatchConsumer, type BatchConsumer, type BatchConsumerOptions, type Decoded } from './consumer.ts';
