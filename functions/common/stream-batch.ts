/**
 * The loop every consumer of the table's stream runs over a batch: records in order, one after another;
 * a record that can never succeed logged and dropped; a failed record reported by its sequence number
 * (Lambda's partial batch response) without stopping the ones after it; no record started too close to
 * the invocation's timeout. send-welcome-email and notify-lockout supply what a record asks for and how
 * to handle it.
 *
 * A plain loop, not `@aws-lambda-powertools/batch`: see docs/functions.md (send-welcome-email, "Why a
 * plain loop"). Its defaults are wrong here: records in parallel, and a throw when every record failed,
 * which makes Lambda bisect an outage for nothing, since the partial response already says where to resume.
 */
import type { Context, DynamoDBBatchItemFailure, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fingerprint, logger as defaultLogger } from './logger.ts';

/**
 * Time kept back from the invocation's timeout: no new record starts with less left, since one send with
 * its SDK retries (BACKGROUND_BUDGET) can take several seconds.
 */
export const SEND_RESERVE_MS = 5_000;

/** How one consumer reads and handles its records. `D` names why a record is dropped, `O` what handling it gave. */
export interface StreamConsumer<R, D extends string, O extends string> {
  /** The log field naming each record's outcome (`welcomeEmail`, `lockNotice`). */
  readonly outcomeField: string;
  /** What the consumer sends, for the log lines ("welcome email", "lock notice"). */
  readonly what: string;
  /** The request a record carries, or why it carries none. */
  readonly parse: (record: DynamoDBRecord) => R | D;
  /** Dropped reasons logged at ERROR (a record that should not exist); the others at INFO. */
  readonly errors: ReadonlySet<D>;
  /** The value whose fingerprint is the correlation id of the lines about one request. */
  readonly correlation: (request: R) => string;
  /** Handles one request; throws while it cannot succeed yet, and the record is then retried. */
  readonly handle: (request: R) => Promise<O>;
  /** The error that fails the whole batch when a record has no sequence number. */
  readonly noSequenceNumber: () => Error;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/** What happened to each record: handled, dropped, failed (reported for a retry), or not started (reported too). */
export type BatchOutcome<D extends string, O extends string> = O | D | 'failed' | 'not-attempted';

/**
 * Handles one batch from the table's stream and returns the sequence numbers Lambda must deliver again.
 * Throws only when a record to handle has no sequence number, which makes Lambda retry the whole batch.
 */
export async function handleStreamBatch<R, D extends string, O extends string>(
  event: DynamoDBStreamEvent,
  consumer: StreamConsumer<R, D, O>,
  context?: Context,
): Promise<DynamoDBBatchResponse & { outcomes: BatchOutcome<D, O>[] }> {
  const log = consumer.logger ?? defaultLogger;
  const records = Array.isArray(event?.Records) ? event.Records : [];
  const batchItemFailures: DynamoDBBatchItemFailure[] = [];
  const outcomes: BatchOutcome<D, O>[] = [];
  for (const record of records) {
    const request = consumer.parse(record);
    if (typeof request === 'string') {
      const reason = request as D;
      outcomes.push(reason);
      log[consumer.errors.has(reason) ? 'error' : 'info'](`Stream record asks for no ${consumer.what}; dropped`, {
        [consumer.outcomeField]: reason,
        eventName: String(record?.eventName).slice(0, 20),
      });
      continue;
    }
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    // Without its sequence number a record cannot be reported; Lambda then retries the whole batch.
    if (!sequenceNumber) throw consumer.noSequenceNumber();
    if (context && context.getRemainingTimeInMillis() < SEND_RESERVE_MS) {
      outcomes.push('not-attempted');
      batchItemFailures.push({ itemIdentifier: sequenceNumber });
      continue;
    }
    defaultLogger.setCorrelationId(fingerprint(consumer.correlation(request as R)));
    try {
      outcomes.push(await consumer.handle(request as R));
    } catch {
      // Later records are still tried: their sends are independent, and a retry finds them already handled.
      outcomes.push('failed');
      batchItemFailures.push({ itemIdentifier: sequenceNumber });
    }
  }
  if (batchItemFailures.length > 0) {
    const what = consumer.what.charAt(0).toUpperCase() + consumer.what.slice(1);
    log.warn(`${what} batch partly failed; Lambda retries from the earliest failed record`, { records: records.length, failed: batchItemFailures.length });
  }
  return { batchItemFailures, outcomes };
}
