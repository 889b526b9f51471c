/**
 * The settings of the welcome email's event source mapping, as plain data: the stack builds the mapping
 * from them, and the sandbox can emulate it without loading the provider classes.
 */
import { PROFILE_SK, SORT_KEY, WELCOME_STATUS } from '../functions/common/table.ts';
import type { FilterPattern, StreamTriggerProps } from './stream-trigger.ts';

/**
 * The pattern passing only INSERTs whose new image holds each of `attributes` as that string, written
 * the way the stream writes an image: DynamoDB's attribute-value form (`{"S": ...}`).
 */
export function insertedWith(attributes: Readonly<Record<string, string>>): FilterPattern {
  return {
    eventName: ['INSERT'],
    dynamodb: { NewImage: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { S: [value] }])) },
  };
}

/**
 * How the table's stream drives send-welcome-email (the welcome email's outbox):
 * - only INSERTs of profiles saved PENDING reach it: the SENT update, sign-in updates, lockout counters,
 *   audit entries and idempotency records never invoke it;
 * - up to 10 records per invocation, gathered for at most 1 s: a burst of sign-ups shares invocations,
 *   and a retry re-delivers at most 9 neighbours (which idempotency then skips);
 * - 10 retries, then the batch's description goes to the failure queue; a record older than an hour is
 *   not retried either. SES throttling clears well within that; a longer outage is an incident, with
 *   the queue's messages and the PENDING profiles as the record of what to re-send. Bounds matter here:
 *   records of a shard wait behind a failing one, so an unbounded retry of one bad address would hold
 *   up every welcome behind it.
 * - starting position TRIM_HORIZON: a mapping that is created or replaced while profiles are being saved
 *   reads back everything the stream still holds (24 hours) instead of only what comes after it, so no
 *   confirmation made in between loses its email. Records already handled are skipped by idempotency,
 *   which remembers a sent welcome for 7 days, longer than the stream keeps them.
 */
export const WELCOME_EMAIL_STREAM = {
  filterPatterns: [insertedWith({ [SORT_KEY]: PROFILE_SK, welcomeEmail: WELCOME_STATUS.pending })],
  batchSize: 10,
  maximumBatchingWindowSeconds: 1,
  maximumRetryAttempts: 10,
  maximumRecordAgeSeconds: 3600,
  startingPosition: 'TRIM_HORIZON',
} as const satisfies Pick<
  StreamTriggerProps,
  'filterPatterns' | 'batchSize' | 'maximumBatchingWindowSeconds' | 'maximumRetryAttempts' | 'maximumRecordAgeSeconds' | 'startingPosition'
>;
