/**
 * What a successful sign-in leaves behind: the profile's last login time and login count, one audit
 * entry, and a cleared attempt counter — each exactly once, however often Cognito retries the trigger.
 *
 * Cognito's event carries no request id, so a retry is recognised by its content: a dedupe marker keyed
 * by a hash of the invocation-stable fields pins the sign-in's time on first sight. The audit row and the
 * profile derive from that pinned time and are idempotent on their own (audit row: put-if-absent on a key
 * holding the time; profile: update only if its last login is older); the counter's clear needs no time
 * and is a plain delete. So a retry after a crash half-way finishes the job instead of skipping it or
 * doing it twice. See docs/lockout.md ("Post-authentication").
 */
import { createHash } from 'node:crypto';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { clearLockout, lockoutLogin, type DocumentSender } from '../common/lockout.ts';
import { auditKey, dedupeKey, profileKey } from '../common/table.ts';
import { type AuditedMethod } from '../common/passwordless.ts';
import { PASSWORDLESS_SK, SIGN_IN_MARKER_SECONDS, passwordlessPk } from '../common/passwordless-items.ts';

/** What recording a sign-in needs. */
export interface RecordDeps {
  readonly db: DocumentSender;
  readonly tableName: string;
  /** How long audit entries are kept. */
  readonly auditRetentionDays: number;
  /**
   * Whether passwordless sign-in is deployed. Without it no sign-in method marker can exist, so the
   * read that looks for one is skipped: one request fewer on every sign-in, the first one included.
   */
  readonly passwordless: boolean;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/**
 * How long a sign-in's content is remembered as "already seen". Cognito gives a trigger 5 s and retries
 * up to three times, so every retry lands well inside a minute; two genuinely separate sign-ins with
 * identical content inside this window are recorded once (see docs/lockout.md).
 */
export const DEDUPE_WINDOW_SECONDS = 60;

/** What happened to each part of the record. */
export interface RecordResult {
  /** The sign-in had been seen before (a retry), so its first time was reused. */
  readonly retry: boolean;
  /** The time recorded for this sign-in (ISO 8601). */
  readonly at: string;
  readonly auditWritten: boolean;
  readonly profileUpdated: boolean;
  readonly lockoutCleared: boolean;
  /** How the user signed in. */
  readonly method: AuditedMethod;
}

/** A passwordless sign-in's marker, as left by verify-auth-challenge-response. */
export interface SignInMarker {
  readonly method: Exclude<AuditedMethod, 'password'>;
  /** Epoch milliseconds of the verification. */
  readonly at: number;
}

/**
 * The event fields that stay the same across Cognito's retries of one invocation, and the passwordless
 * marker when there is one: it is only read, so it is as stable across retries as the event, and it
 * tells apart two passwordless sign-ins whose events are otherwise identical.
 */
export function invocationHash(event: PostAuthenticationTriggerEvent, marker?: SignInMarker): string {
  const request = event.request;
  const stable = {
    userPoolId: event.userPoolId,
    userName: event.userName,
    clientId: event.callerContext?.clientId ?? '',
    triggerSource: event.triggerSource,
    newDeviceUsed: request.newDeviceUsed ?? null,
    userAttributes: sortedEntries(request.userAttributes),
    clientMetadata: sortedEntries(request.clientMetadata),
    ...(marker ? { signIn: marker } : {}),
  };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex');
}

function sortedEntries(map: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function isConditionFailure(error: unknown): error is Error & { Item?: Record<string, unknown> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function markerTime(item: Record<string, unknown> | undefined): number | undefined {
  const value = item?.at;
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'N' in value && typeof value.N === 'string') return Number(value.N);
  return undefined;
}

/** Pins the sign-in's time: the first invocation claims the marker, a retry learns the time it pinned. */
async function pinSignInTime(deps: RecordDeps, hash: string): Promise<{ at: number; retry: boolean }> {
  const Key = dedupeKey('post-auth', hash);
  for (let round = 0; round < 3; round++) {
    const now = deps.now();
    const nowSeconds = Math.floor(now / 1000);
    try {
      await deps.db.send(
        new PutCommand({
          TableName: deps.tableName,
          Item: { ...Key, at: now, expiresAt: nowSeconds + DEDUPE_WINDOW_SECONDS },
          // TTL deletion lags by hours, so an expired marker is treated as absent explicitly.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { at: now, retry: false };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const returned = markerTime(error.Item);
      if (returned !== undefined) return { at: returned, retry: true };
      // Emulators that do not return ALL_OLD: read the marker that blocked us.
      const output = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key, ConsistentRead: true }));
      const read = markerTime(output.Item);
      if (read !== undefined) return { at: read, retry: true };
      // It expired and vanished in between: claim it again.
    }
  }
  throw new Error('dedupe marker could not be claimed');
}

async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * How this sign-in was made. Cognito's event does not say, so verify-auth-challenge-response leaves a
 * marker when it accepts a link or code, moments before Cognito calls this trigger; without a fresh
 * marker the sign-in was a password's. A marker is only read, so a retry of this trigger audits the
 * same method; a password sign-in within a minute of a passwordless one would be audited as that method.
 */
async function signInMarker(deps: RecordDeps, login: string): Promise<SignInMarker | undefined> {
  const output = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: { pk: passwordlessPk(login), sk: PASSWORDLESS_SK.signIn }, ConsistentRead: true }));
  const item = output?.Item;
  const fresh = typeof item?.at === 'number' && Math.abs(deps.now() - item.at) <= SIGN_IN_MARKER_SECONDS * 1000;
  return fresh && (item.method === 'magic-link' || item.method === 'code') ? { method: item.method, at: item.at } : undefined;
}

/** Records one successful sign-in. Throws only when DynamoDB fails; every write is safe to repeat. */
export async function recordSignIn(deps: RecordDeps, event: PostAuthenticationTriggerEvent): Promise<RecordResult> {
  const attributes = event.request.userAttributes;
  const sub = attributes.sub;
  if (typeof sub !== 'string' || sub === '') throw new Error('post-authentication event without a sub');
  const email = typeof attributes.email === 'string' && attributes.email.trim() !== '' ? attributes.email.trim() : undefined;
  const login = lockoutLogin({ userName: event.userName, email });
  // The counter's clear needs nothing from the marker, so it goes out beside it: on a cold start the
  // audit and profile writes then reuse the two open connections instead of opening a third.
  const clearing = clearLockout(deps.db, deps.tableName, login).then((previous) => previous !== undefined);
  // Handled from the start: a rejection while the marker is still being claimed must not go unhandled.
  clearing.catch(() => undefined);
  try {
    return await recordWithClear(deps, event, { sub, email, login }, clearing);
  } catch (error) {
    // The clear too is settled before the answer, however the marker or a write failed.
    await clearing.catch(() => undefined);
    throw error;
  }
}

async function recordWithClear(
  deps: RecordDeps,
  event: PostAuthenticationTriggerEvent,
  { sub, email, login }: { sub: string; email: string | undefined; login: string },
  clearing: Promise<boolean>,
): Promise<RecordResult> {
  const marker = deps.passwordless ? await signInMarker(deps, login) : undefined;
  const method: AuditedMethod = marker?.method ?? 'password';
  const hash = invocationHash(event, marker);
  const { at, retry } = await pinSignInTime(deps, hash);
  const atIso = new Date(at).toISOString();

  const audit = conditional(
    deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...auditKey(sub, atIso, hash.slice(0, 16)),
          at: atIso,
          clientId: event.callerContext?.clientId ?? '',
          triggerSource: event.triggerSource,
          method,
          // The only device or network data Cognito puts in this event; it is set only when the pool remembers devices.
          ...(typeof event.request.newDeviceUsed === 'boolean' ? { device: { newDeviceUsed: event.request.newDeviceUsed } } : {}),
          expiresAt: Math.floor(at / 1000) + deps.auditRetentionDays * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );

  // An upsert: users who arrived through migration have no profile row until their first sign-in.
  // Only a newer sign-in moves lastLoginAt, which also keeps loginCount from counting a retry twice.
  const profile = conditional(
    deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: profileKey(sub),
        UpdateExpression: `SET lastLoginAt = :at, #sub = if_not_exists(#sub, :sub), createdAt = if_not_exists(createdAt, :at)${email ? ', email = if_not_exists(email, :email)' : ''} ADD loginCount :one`,
        ConditionExpression: 'attribute_not_exists(lastLoginAt) OR lastLoginAt < :at',
        ExpressionAttributeNames: { '#sub': 'sub' },
        ExpressionAttributeValues: { ':at': atIso, ':sub': sub, ':one': 1, ...(email ? { ':email': email } : {}) },
      }),
    ),
  );

  // Every write settles before the answer, a failed one included, so none is in flight when Lambda freezes.
  const [auditWritten, profileUpdated, lockoutCleared] = await Promise.allSettled([audit, profile, clearing]).then((settled) => {
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<boolean>).value);
  });
  return { retry, at: atIso, auditWritten: auditWritten!, profileUpdated: profileUpdated!, lockoutCleared: lockoutCleared!, method };
}
