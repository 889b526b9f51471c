/**
 * The PENDING profiles `make resend-welcome` finds, and the stream batches it builds from them, shaped
 * exactly as the table's event source mapping delivers them to send-welcome-email.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { PARTITION_KEY, PROFILE_SK, profileKey, SORT_KEY, subOfUserPartition, WELCOME_STATUS } from '../../functions/common/table.ts';

/** The clients the command uses; narrow, so tests pass stubs. */
export interface ResendClients {
  readonly db: Pick<DynamoDBDocumentClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
}

/** A profile still waiting for its welcome email, as the scan projects it. */
export interface PendingProfile {
  readonly sub: string;
  readonly confirmedAt: string;
  /** The projected attributes: what send-welcome-email reads from a stream image. */
  readonly item: Readonly<Record<string, unknown>>;
}

/** Everything send-welcome-email reads from the new image (functions/send-welcome-email/logic.ts), and no more. */
export const PROJECTED = [PARTITION_KEY, SORT_KEY, 'sub', 'userPoolId', 'email', 'name', 'givenName', 'welcomeEmail', 'confirmedAt'] as const;

/** The scan's parameters, without the page's start key. */
export function scanInput(tableName: string, cutoff: string) {
  return {
    TableName: tableName,
    // Every name through a placeholder: `name` is a reserved word, and the others may become one.
    ProjectionExpression: PROJECTED.map((a) => `#${a}`).join(', '),
    FilterExpression: '#sk = :profile AND #welcomeEmail = :pending AND #confirmedAt < :cutoff',
    ExpressionAttributeNames: Object.fromEntries(PROJECTED.map((a) => [`#${a}`, a])),
    // ISO-8601 UTC strings of one format (post-confirmation's toISOString) compare as their instants do.
    ExpressionAttributeValues: { ':profile': PROFILE_SK, ':pending': WELCOME_STATUS.pending, ':cutoff': cutoff },
  };
}

/**
 * The PENDING profiles confirmed before `cutoff` (an ISO time), oldest first.
 *
 * A Scan, not a Query: this is an operator's command after an incident, run a handful of times a year,
 * never on a user's path. It reads the whole table once (every profile, lockout counter, audit entry and
 * idempotency record, page by page), which on demand costs about 0.25 USD per million 4 KB-reads at the
 * time of writing, and it needs nothing in the stack kept up for it. A sparse index (an attribute set
 * only while PENDING) would make it a Query, at the price of a write to the index on every confirmation
 * and every SENT mark, forever; see docs/functions.md.
 */
export async function findPending(db: ResendClients['db'], tableName: string, cutoff: string): Promise<PendingProfile[]> {
  const found: PendingProfile[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ ...scanInput(tableName, cutoff), ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of page.Items ?? []) {
      const pk = typeof item.pk === 'string' ? item.pk : '';
      const sub = typeof item.sub === 'string' && item.sub !== '' ? item.sub : subOfUserPartition(pk);
      found.push({ sub, confirmedAt: String(item.confirmedAt), item });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return found.sort((a, b) => (a.confirmedAt < b.confirmedAt ? -1 : a.confirmedAt > b.confirmedAt ? 1 : 0));
}

/**
 * The profile in the stream's attribute-value form. The projection holds strings only; a value of any
 * other kind is left out, and send-welcome-email then judges the image as it would judge the stream's.
 */
export function streamImage(item: Readonly<Record<string, unknown>>): Record<string, StreamAttributeValue> {
  const image: Record<string, StreamAttributeValue> = {};
  for (const [name, value] of Object.entries(marshall(item, { removeUndefinedValues: true }))) {
    if (typeof value.S === 'string') image[name] = { S: value.S };
  }
  return image;
}

/**
 * A batch as the event source mapping delivers it: INSERTs of the profiles, in the table's stream. The
 * sequence numbers are synthetic (`first`, `first + 1`, ...), digits like DynamoDB's, unique within a
 * run; the function only uses them to name the records it reports back.
 */
export function streamEvent(profiles: readonly PendingProfile[], where: { streamArn: string; region: string }, first: bigint): DynamoDBStreamEvent {
  const Records = profiles.map((profile, i): DynamoDBRecord => {
    const NewImage = streamImage(profile.item);
    const sequenceNumber = String(first + BigInt(i));
    const created = Date.parse(profile.confirmedAt);
    return {
      eventID: `resend-welcome-${sequenceNumber}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: where.region,
      eventSourceARN: where.streamArn,
      dynamodb: {
        ...(Number.isFinite(created) ? { ApproximateCreationDateTime: Math.floor(created / 1000) } : {}),
        Keys: { pk: NewImage.pk ?? { S: profileKey(profile.sub).pk }, sk: NewImage.sk ?? { S: PROFILE_SK } },
        NewImage,
        SequenceNumber: sequenceNumber,
        SizeBytes: JSON.stringify(NewImage).length,
        StreamViewType: 'NEW_IMAGE',
      },
    };
  });
  return { Records } satisfies DynamoDBStreamEvent;
}

/** The first sequence number of a run: 21 digits, like DynamoDB's, from the run's start time. */
export function firstSequenceNumber(now: number): bigint {
  return 10n ** 20n + BigInt(now) * 1_000_000n;
}

