import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';

/** SQS's longest retention: 14 days. */
export const MAX_RETENTION_SECONDS = 14 * 24 * 3600;

export interface FailureQueueProps {
  /** Queue name. */
  readonly name: string;
  /** How long a failure record waits to be read, in seconds (SQS allows 60 to 1,209,600). Default 14 days. */
  readonly retentionSeconds?: number;
}

/**
 * An encrypted SQS queue that receives what Lambda gave up on: an event source mapping's on-failure
 * destination. For a stream source, each message describes a failed batch (stream, shard, sequence
 * range, condition), never the records' content, so no personal data lands here. An alarm on its depth
 * is the signal that work was dropped.
 */
export class FailureQueue extends Construct {
  /** The queue. */
  readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: props.name,
      messageRetentionSeconds: props.retentionSeconds ?? MAX_RETENTION_SECONDS,
      // SQS-managed keys: encrypted at rest, and senders need no KMS permission.
      sqsManagedSseEnabled: true,
    });
  }

  /** Queue ARN, the on-failure destination and the resource of the sender's sqs:SendMessage grant. */
  get arn(): string {
    return this.queue.arn;
  }

  /** Queue URL, for reading it (operators, alarms). */
  get url(): string {
    return this.queue.url;
  }

  /** Queue name. */
  get name(): string {
    return this.queue.name;
  }
}
