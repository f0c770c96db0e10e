/** Injection token of the RecordSink the processor hands records to (the Kafka publisher). */
export const RECORD_SINK = Symbol('RECORD_SINK');
