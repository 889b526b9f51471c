import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';

/** A Lambda event filter pattern (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html). */
export type FilterPattern = Readonly<Record<string, unknown>>;

export interface StreamTriggerProps {
  /** ARN of the DynamoDB stream to read. */
  readonly streamArn: string;
  /** Name of the function to invoke. Its role must already allow reading the stream and sending to the failure queue. */
  readonly functionName: string;
  /** Records pass when they match any of these patterns; the others are skipped and never reach the function. */
  readonly filterPatterns: readonly FilterPattern[];
  /** Most records per invocation (1 to 10,000). */
  readonly batchSize: number;
  /** Seconds Lambda may wait to fill a batch (0 to 300). */
  readonly maximumBatchingWindowSeconds: number;
  /** Retries of a failed batch before its records go to the failure destination (0 to 10,000). */
  readonly maximumRetryAttempts: number;
  /** Age (seconds, 60 to 604,800) past which a record goes to the failure destination instead of being retried. */
  readonly maximumRecordAgeSeconds: number;
  /**
   * Where a new mapping starts reading: `TRIM_HORIZON` (every record the stream still holds, up to 24 hours)
   * or `LATEST` (only records written after the mapping exists).
   */
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** ARN of the queue that receives a description of each batch Lambda gave up on. */
  readonly onFailureDestinationArn: string;
  /**
   * Resources the mapping is created after: Lambda checks the function role's stream and queue grants
   * when the mapping is created, so the role's policy must exist by then.
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * A Lambda event source mapping from a DynamoDB stream to one function, set up for a handler that
 * reports partial batch failures:
 * - `ReportBatchItemFailures`: the function returns the sequence numbers to retry, and Lambda
 *   checkpoints every record before the earliest of them instead of retrying the whole batch;
 * - bisect on error: when an invocation fails outright (timeout, crash), Lambda splits the batch and
 *   retries the halves, so one record that breaks the function does not hold up its neighbours;
 * - bounded retries and record age, then the on-failure destination, so a record that cannot be
 *   processed blocks its shard for a bounded time and leaves a trace.
 */
export class StreamTrigger extends Construct {
  /** The event source mapping. */
  readonly mapping: LambdaEventSourceMapping;

  constructor(scope: Construct, id: string, props: StreamTriggerProps) {
    super(scope, id);
    this.mapping = new LambdaEventSourceMapping(this, 'mapping', {
      eventSourceArn: props.streamArn,
      functionName: props.functionName,
      startingPosition: props.startingPosition,
      batchSize: props.batchSize,
      maximumBatchingWindowInSeconds: props.maximumBatchingWindowSeconds,
      functionResponseTypes: ['ReportBatchItemFailures'],
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: props.maximumRetryAttempts,
      maximumRecordAgeInSeconds: props.maximumRecordAgeSeconds,
      filterCriteria: { filter: props.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
      destinationConfig: { onFailure: { destinationArn: props.onFailureDestinationArn } },
      ...(props.dependsOn ? { dependsOn: [...props.dependsOn] } : {}),
    });
  }

  /** The mapping's UUID, as Lambda's event source mapping APIs take it. */
  get uuid(): string {
    return this.mapping.uuid;
  }

  /** The mapping's ARN. */
  get arn(): string {
    return this.mapping.arn;
  }
}
