/**
 * The settings of the lock notice's event source mapping, as plain data: the stack builds the mapping
 * from them, and the sandbox emulates it from the synthesized stack.
 */
import { ITEM_PREFIX, LOCK_NOTICE_ATTRIBUTES, LOCKOUT_SK, PARTITION_KEY, SORT_KEY } from '../functions/common/table.ts';
import type { StreamTriggerProps } from './stream-trigger.ts';

/**
 * How the table's stream drives notify-lockout:
 * - only writes whose new image names a lock's owner reach it. pre-authentication sets the owner in the
 *   write that engages a lock on an existing account and removes it in every other write, so counted
 *   attempts, refusals during a lock, locks on unknown logins, profiles, audit entries and idempotency
 *   records never invoke it: one invocation per lock, whatever the attack's volume;
 * - up to 10 records per invocation, gathered for at most 1 s, so the owner hears within seconds;
 * - 10 retries, then the batch's description goes to the failure queue; a record older than an hour is
 *   not retried either: a notice that late tells of a lock that is long over;
 * - TRIM_HORIZON: a mapping created or replaced reads back what the stream still holds (24 hours), so a
 *   lock engaged meanwhile is still told; idempotency (2 days) skips what was already handled.
 */
export const LOCK_NOTICE_STREAM = {
  filterPatterns: [
    {
      eventName: ['INSERT', 'MODIFY'],
      dynamodb: {
        Keys: { [PARTITION_KEY]: { S: [{ prefix: ITEM_PREFIX.lockout }] }, [SORT_KEY]: { S: [LOCKOUT_SK] } },
        NewImage: { [LOCK_NOTICE_ATTRIBUTES.owner]: { S: [{ exists: true }] } },
      },
    },
  ],
  batchSize: 10,
  maximumBatchingWindowSeconds: 1,
  maximumRetryAttempts: 10,
  maximumRecordAgeSeconds: 3600,
  startingPosition: 'TRIM_HORIZON',
} as const satisfies Pick<
  StreamTriggerProps,
  'filterPatterns' | 'batchSize' | 'maximumBatchingWindowSeconds' | 'maximumRetryAttempts' | 'maximumRecordAgeSeconds' | 'startingPosition'
>;
