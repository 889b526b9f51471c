/**
 * What the two sign-up reminder workflow tasks share: their input, the user's current status in the pool,
 * and the split between failures worth retrying and failures that are final.
 *
 * The state machine retries errors named `TransientError` with backoff and records anything else as a
 * failed execution, so every AWS error is sorted into one or the other here.
 */
import { AdminGetUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { BrandingSettings, SenderIdentity } from './config.ts';

/** The task input the state machine passes: `{"userPoolId", "username"}` (no email, so no PII in the history). */
/** What both workflow tasks work with: the pool they look the user up in, SES and the email's branding. */
export interface WorkflowTaskDeps {
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly branding: BrandingSettings;
  readonly from: SenderIdentity;
}

export interface TaskInput {
  readonly userPoolId: string;
  readonly username: string;
}

/** A failure that may pass (throttling, a 5xx, a timeout); the state machine retries it by this name. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** The input is not what the state machine sends; retrying cannot help. */
export class InvalidTaskInput extends Error {
  override readonly name = 'InvalidTaskInput';
}

const POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;

/** Checks the task input. */
export function parseTaskInput(input: unknown): TaskInput {
  const value = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof value.userPoolId !== 'string' || !POOL_ID.test(value.userPoolId) || value.userPoolId.length > 55) {
    throw new InvalidTaskInput('The task input needs a userPoolId');
  }
  if (typeof value.username !== 'string' || value.username === '' || value.username.length > 128) {
    throw new InvalidTaskInput('The task input needs a username');
  }
  return { userPoolId: value.userPoolId, username: value.username };
}

/** The user as the pool knows them now; `NOT_FOUND` once they are gone. */
export type PoolUser =
  | { readonly status: 'NOT_FOUND' }
  | { readonly status: string; readonly enabled: boolean; readonly attributes: Readonly<Record<string, string>> };

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Whether an AWS SDK (or network) error may succeed on a later attempt. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; $fault?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable) return true;
  if (e.$fault === 'server') return true;
  if (typeof e.$metadata?.httpStatusCode === 'number' && e.$metadata.httpStatusCode >= 500) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

/** Rethrows `error` as a {@link TransientError} when it may pass, unchanged otherwise. */
export function rethrowForWorkflow(error: unknown, what: string): never {
  if (isTransient(error)) throw new TransientError(`${what} failed for now (${error instanceof Error ? error.name : 'unknown'})`, { cause: error });
  throw error;
}

/** Reads the user's status with AdminGetUser (the authority; `email_verified` is not). */
export async function lookUpUser(cognito: Pick<CognitoIdentityProviderClient, 'send'>, input: TaskInput): Promise<PoolUser> {
  try {
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: input.userPoolId, Username: input.username }));
    const attributes: Record<string, string> = {};
    for (const { Name, Value } of user.UserAttributes ?? []) if (Name && Value !== undefined) attributes[Name] = Value;
    return { status: user.UserStatus ?? 'UNKNOWN', enabled: user.Enabled !== false, attributes };
  } catch (error) {
    if (error instanceof Error && error.name === 'UserNotFoundException') return { status: 'NOT_FOUND' };
    return rethrowForWorkflow(error, 'Looking up the user');
  }
}
