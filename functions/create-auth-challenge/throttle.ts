/**
 * The message throttle of passwordless sign-in: at most one new link or code per login per interval,
 * and at most a number per hour, so the flow cannot flood anyone's inbox. One item per login
 * (`PASSWORDLESS#<login>`, `THROTTLE`), changed only by conditional writes, so parallel requests
 * cannot both pass a limit.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PasswordlessSettings } from '../common/config.ts';
import type { DocumentSender } from '../common/lockout.ts';
import { PASSWORDLESS_SK, passwordlessPk } from '../common/passwordless-items.ts';

const HOUR_MS = 3_600_000;

export interface ThrottleDeps {
  readonly db: DocumentSender;
  readonly tableName: string;
  readonly settings: Pick<PasswordlessSettings, 'minIntervalSeconds' | 'maxPerHour'>;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Takes one message from the login's allowance. Returns false when the login has had a message within
 * the interval, or its hourly maximum; throws when DynamoDB fails.
 *
 * The hour is a window opened by the first message: a write either opens a new window (none yet, or
 * the last is over an hour old) or counts within the current one, and each write's condition holds
 * the limits, so of two parallel requests at the limit exactly one passes.
 */
export async function takeMessageAllowance(deps: ThrottleDeps, login: string, signal?: AbortSignal): Promise<boolean> {
  const now = deps.now();
  const Key = { pk: passwordlessPk(login), sk: PASSWORDLESS_SK.throttle };
  const values = { ':now': now, ':intervalAgo': now - deps.settings.minIntervalSeconds * 1000, ':hourAgo': now - HOUR_MS, ':ttl': Math.ceil((now + HOUR_MS) / 1000) };
  const attempt = async (update: string, condition: string, extra: Record<string, unknown>): Promise<boolean> => {
    try {
      await deps.db.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values, ...extra },
        }),
        signal ? { abortSignal: signal } : {},
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };
  const intervalOver = '(attribute_not_exists(lastSentAt) OR lastSentAt <= :intervalAgo)';
  if (await attempt('SET windowStart = :now, sent = :one, lastSentAt = :now, expiresAt = :ttl', `${intervalOver} AND (attribute_not_exists(windowStart) OR windowStart <= :hourAgo)`, { ':one': 1 })) {
    return true;
  }
  return attempt('SET lastSentAt = :now, expiresAt = :ttl ADD sent :one', `${intervalOver} AND windowStart > :hourAgo AND sent < :max`, { ':one': 1, ':max': deps.settings.maxPerHour });
}
