import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One stored edge.log.v1.AccessRecord. `request_id` is the primary key: a redelivery is stored once. */
@Entity({ name: 'access_records' })
@Index('access_records_tenant_time', ['tenant', 'startedAt', 'requestId'])
@Index('access_records_time', ['startedAt', 'requestId'])
export class AccessRecordEntity {
  @PrimaryColumn({ name: 'request_id', type: 'text' })
  requestId!: string;

  @Column({ type: 'text' })
  tenant!: string;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'auth_via', type: 'text' })
  authVia!: string;

  @Column({ type: 'integer' })
  status!: number;

  @Column({ type: 'text' })
  method!: string;

  @Column({ type: 'text' })
  scheme!: string;

  @Column({ type: 'text' })
  authority!: string;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'text' })
  query!: string;

  @Column({ name: 'client_address', type: 'text' })
  clientAddress!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz' })
  endedAt!: Date;

  @Column({ name: 'duration_us', type: 'bigint' })
  durationUs!: string;

  @Column({ name: 'request_size', type: 'bigint' })
  requestSize!: string;

  @Column({ name: 'response_size', type: 'bigint' })
  responseSize!: string;

  @Column({ name: 'request_headers', type: 'jsonb' })
  requestHeaders!: Record<string, string>;

  @Column({ name: 'response_headers', type: 'jsonb' })
  responseHeaders!: Record<string, string>;

  @Column({ type: 'text' })
  route!: string;

  @Column({ type: 'text', array: true })
  processors!: string[];

  @Column({ name: 'response_code_details', type: 'text' })
  responseCodeDetails!: string;

  @Column({ name: 'request_body', type: 'bytea', nullable: true })
  requestBody!: Buffer | null;

  @Column({ name: 'request_body_truncated', type: 'boolean', default: false })
  requestBodyTruncated!: boolean;

  @Column({ name: 'response_body', type: 'bytea', nullable: true })
  responseBody!: Buffer | null;

  @Column({ name: 'response_body_truncated', type: 'boolean', default: false })
  responseBodyTruncated!: boolean;

  @Column({ name: 'schema_version', type: 'integer' })
  schemaVersion!: number;

  @Column({ name: 'kafka_partition', type: 'integer' })
  kafkaPartition!: number;

  @Column({ name: 'kafka_offset', type: 'bigint' })
  kafkaOffset!: string;

  @Column({ name: 'stored_at', type: 'timestamptz', default: () => 'now()' })
  storedAt!: Date;
}
