/**
 * Lambda event source mappings on DynamoDB streams, for the sandbox: what `aws_lambda_event_source_mapping`
 * does with the records sandbox/dynamodb/stream.ts emits.
 *
 * One poller per mapping reads its stream in order (one shard): records that pass the mapping's filter
 * patterns are batched (up to `batch_size`, waiting at most `maximum_batching_window_in_seconds` for a
 * batch to fill) and the function is invoked synchronously through the local Lambda host with
 * `{"Records": [...]}`. Then, as Lambda does:
 * - no error and no (or an empty) `batchItemFailures`: the batch is done;
 * - with `ReportBatchItemFailures`, valid item failures: every record before the earliest failed
 *   sequence number is done, and the rest of the batch is retried;
 * - an invalid item failure (empty, null, or not a sequence number of the batch): the whole batch is retried;
 * - a function error (thrown, timed out, crashed): the whole batch is retried, split in two halves
 *   first when `bisect_batch_on_function_error` is set (a split does not use up a retry);
 * - after `maximum_retry_attempts` retries, or for records older than `maximum_record_age_in_seconds`,
 *   the records are given up on and a description of the batch (never its records) goes to the
 *   on-failure destination, in Lambda's format for stream sources.
 * Records behind a failing batch wait, as on a real shard. The differences from Lambda are listed in
 * docs/sandbox.md.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';
import { delay } from '../lib/http.ts';
import type { StackStreamMapping } from '../stack.ts';
import type { InvokeResult } from './host.ts';
import { passesFilters } from './filter.ts';

/** What Lambda sends to an on-failure destination for a stream batch it gave up on. */
export interface StreamFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted' | 'MaximumRecordAgeExceeded';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** One invocation a mapping made, for tests and the reliability suite. */
export interface MappingDelivery {
  readonly functionName: string;
  readonly sequenceNumbers: readonly string[];
  /** `partial`: valid batchItemFailures; `invalid`: a response Lambda counts as a full failure. */
  readonly outcome: 'success' | 'partial' | 'invalid' | 'error';
  /** Sequence numbers the function reported as failed. */
  readonly failed: readonly string[];
  readonly error?: string;
}

export interface EventSourceMappingsOptions {
  readonly mappings: readonly StackStreamMapping[];
  /** Invokes a function synchronously, as a mapping does. */
  readonly invoke: (functionName: string, event: unknown) => Promise<InvokeResult>;
  /** ARN of a deployed function, for the failure records. */
  readonly functionArn: (functionName: string) => string;
  /** Pause before each retry of a failed batch. Default 100 ms. */
  readonly retryDelayMs?: number;
  /** Multiplies each mapping's batching window. Default 1. */
  readonly batchingWindowScale?: number;
}

interface Entry {
  readonly record: DynamoDBRecord;
  readonly arrivedAt: number;
}

type Outcome = { kind: 'success' } | { kind: 'partial'; from: number } | { kind: 'invalid' } | { kind: 'error'; functionError: string };

const SHARD_ID = 'shardId-00000000000000000000-sandbox0';

class StreamPoller {
  private readonly queue: Entry[] = [];
  private running?: Promise<void>;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    readonly mapping: StackStreamMapping,
    private readonly options: EventSourceMappingsOptions,
    private readonly deliveries: MappingDelivery[],
    private readonly failures: Map<string, StreamFailureRecord[]>,
  ) {}

  /** True while records wait or a batch is in flight. */
  get busy(): boolean {
    return this.queue.length > 0 || this.running !== undefined;
  }

  push(records: readonly DynamoDBRecord[]): void {
    if (this.stopped) return;
    const now = Date.now();
    // Filtered-out records are dropped here, before batching, and count as processed.
    for (const record of records) if (passesFilters(this.mapping.filterPatterns, record)) this.queue.push({ record, arrivedAt: now });
    this.kick();
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.queue.length = 0;
    await this.idle();
  }

  private kick(): void {
    if (this.running || this.queue.length === 0 || this.stopped) return;
    this.running = this.drain()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        this.kick();
      });
  }

  private async drain(): Promise<void> {
    const m = this.mapping;
    while (this.queue.length > 0 && !this.stopped) {
      const windowMs = m.maximumBatchingWindowSeconds * 1000 * (this.options.batchingWindowScale ?? 1);
      const fillBy = this.queue[0]!.arrivedAt + windowMs;
      while (this.queue.length < m.batchSize && Date.now() < fillBy && !this.stopped) await delay(Math.min(25, fillBy - Date.now()), this.abort.signal);
      if (this.stopped) return;
      await this.process(this.queue.splice(0, m.batchSize));
    }
  }

  private async process(batch: Entry[]): Promise<void> {
    const m = this.mapping;
    const work: Array<{ entries: Entry[]; retries: number }> = [{ entries: batch, retries: 0 }];
    while (work.length > 0 && !this.stopped) {
      const { retries } = work[0]!;
      let entries = work.shift()!.entries;
      if (m.maximumRecordAgeSeconds >= 0) {
        const tooOld = entries.filter((e) => Date.now() - e.arrivedAt > m.maximumRecordAgeSeconds * 1000);
        if (tooOld.length > 0) {
          this.giveUp(tooOld, 'MaximumRecordAgeExceeded', retries, undefined);
          entries = entries.filter((e) => !tooOld.includes(e));
          if (entries.length === 0) continue;
        }
      }
      const outcome = await this.invoke(entries);
      if (outcome.kind === 'success') continue;
      const remaining = outcome.kind === 'partial' ? entries.slice(outcome.from) : entries;
      const bisect = outcome.kind === 'error' && m.bisectBatchOnFunctionError && remaining.length > 1;
      if (!bisect && m.maximumRetryAttempts >= 0 && retries >= m.maximumRetryAttempts) {
        this.giveUp(remaining, 'RetryAttemptsExhausted', retries, outcome.kind === 'error' ? outcome.functionError : undefined);
        continue;
      }
      await delay(this.options.retryDelayMs ?? 100, this.abort.signal);
      if (bisect) {
        // Splitting a batch does not use up its retries (Lambda's documentation).
        const half = Math.ceil(remaining.length / 2);
        work.unshift({ entries: remaining.slice(0, half), retries }, { entries: remaining.slice(half), retries });
      } else {
        work.unshift({ entries: remaining, retries: retries + 1 });
      }
    }
  }

  private async invoke(entries: Entry[]): Promise<Outcome> {
    const m = this.mapping;
    const sequenceNumbers = entries.map((e) => e.record.dynamodb?.SequenceNumber ?? '');
    const note = (outcome: MappingDelivery['outcome'], failed: string[] = [], error?: string) =>
      this.deliveries.push({ functionName: m.functionName, sequenceNumbers, outcome, failed, ...(error ? { error } : {}) });
    let result: InvokeResult;
    try {
      result = await this.options.invoke(m.functionName, { Records: entries.map((e) => e.record) });
    } catch (error) {
      note('error', [], error instanceof Error ? error.message : String(error));
      return { kind: 'error', functionError: 'Unhandled' };
    }
    if (result.functionError || result.statusCode >= 300) {
      const payload = result.payload as { errorType?: string } | null;
      note('error', [], payload?.errorType ?? `status ${result.statusCode}`);
      return { kind: 'error', functionError: result.functionError ?? 'Unhandled' };
    }
    if (!m.functionResponseTypes.includes('ReportBatchItemFailures')) {
      note('success');
      return { kind: 'success' };
    }
    const reported = (result.payload as { batchItemFailures?: unknown } | null)?.batchItemFailures;
    if (reported === undefined || reported === null || (Array.isArray(reported) && reported.length === 0)) {
      note('success');
      return { kind: 'success' };
    }
    const ids = Array.isArray(reported) ? reported.map((f) => (f as { itemIdentifier?: unknown } | null)?.itemIdentifier) : [undefined];
    if (ids.some((id) => typeof id !== 'string' || !sequenceNumbers.includes(id))) {
      note('invalid', ids.filter((id): id is string => typeof id === 'string'));
      return { kind: 'invalid' };
    }
    note('partial', ids as string[]);
    return { kind: 'partial', from: Math.min(...(ids as string[]).map((id) => sequenceNumbers.indexOf(id))) };
  }

  private giveUp(entries: Entry[], condition: StreamFailureRecord['requestContext']['condition'], retries: number, functionError: string | undefined): void {
    const destination = this.mapping.onFailureDestinationArn;
    if (!destination) return;
    const first = entries[0]!;
    const last = entries[entries.length - 1]!;
    const list = this.failures.get(destination) ?? [];
    list.push({
      requestContext: { requestId: randomUUID(), functionArn: this.options.functionArn(this.mapping.functionName), condition, approximateInvokeCount: retries + 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(functionError ? { functionError } : {}) },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: SHARD_ID,
        startSequenceNumber: first.record.dynamodb?.SequenceNumber ?? '',
        endSequenceNumber: last.record.dynamodb?.SequenceNumber ?? '',
        approximateArrivalOfFirstRecord: new Date(first.arrivedAt).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.arrivedAt).toISOString(),
        batchSize: entries.length,
        streamArn: this.mapping.eventSourceArn,
      },
    });
    this.failures.set(destination, list);
  }
}

/** Every event source mapping of the stack, fed by the table stream proxy. */
export class EventSourceMappings {
  private readonly pollers: StreamPoller[];
  /** Every invocation the mappings made, oldest first. */
  readonly deliveries: MappingDelivery[] = [];
  /** What reached each on-failure destination (by its ARN), oldest first: the sandbox's failure queues. */
  readonly failures = new Map<string, StreamFailureRecord[]>();

  constructor(options: EventSourceMappingsOptions) {
    this.pollers = options.mappings.map((m) => new StreamPoller(m, options, this.deliveries, this.failures));
  }

  /**
   * Hands new stream records to the mappings reading that stream. The sandbox's streams start empty with
   * the sandbox and every mapping exists from the start, so LATEST and TRIM_HORIZON read the same records.
   */
  deliver(streamArn: string, records: readonly DynamoDBRecord[]): void {
    for (const poller of this.pollers) if (poller.mapping.eventSourceArn === streamArn) poller.push(records);
  }

  /** Resolves when no record waits and no batch is in flight. */
  async settle(): Promise<void> {
    while (this.pollers.some((p) => p.busy)) await Promise.all(this.pollers.map((p) => p.idle()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
  }
}
