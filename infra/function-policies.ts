/**
 * What each function may do, and on what. One place, so a reviewer reads every grant on one screen
 * and the tests compare each role with it.
 */
import type { FunctionName } from '../functions/catalog.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS, ITEM_PREFIX, type PolicyStatement } from './iam.ts';

/**
 * What Lambda's event source mapping does with the function's role to read a DynamoDB stream, all
 * scopable to the stream ARN.
 */
export const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] as const;

/**
 * The one stream action IAM cannot scope to a resource (the Service Authorization Reference lists no
 * resource type for it, and AWS's own AWSLambdaDynamoDBExecutionRole grants it on `*`). It only lists
 * stream ARNs; the statement is pinned to the stack's region.
 */
export const UNSCOPABLE_STREAM_ACTIONS = ['dynamodb:ListStreams'] as const;

/** ARNs the grants name. */
export interface GrantTargets {
  /** The data table. */
  readonly tableArn: string;
  /** The reminder state machine. */
  readonly stateMachineArn: string;
  /** The user pool (only in pool-scoped statements). */
  readonly userPoolArn: string;
  /** The table's stream, which send-welcome-email's event source mapping reads. */
  readonly tableStreamArn: string;
  /** The queue that receives the welcome-email records Lambda gave up on. */
  readonly welcomeFailureQueueArn: string;
  /** The stack's region, which pins the one statement IAM cannot scope to a resource. */
  readonly region: string;
  /** The legacy pool user migration reads. */
  readonly legacyUserPoolArn: string;
  /** SES identities ses:SendEmail is checked against: sender, plus receivers in the SES sandbox. */
  readonly sesIdentityArns: readonly string[];
  /** The custom-sender key (custom-senders mode). */
  readonly kmsKeyArn?: string;
  /** The SendGrid secret (custom-senders mode). */
  readonly sendgridSecretArn?: string;
  /** The Twilio secret (custom-senders mode). */
  readonly twilioSecretArn?: string;
}

/**
 * A function's grants: `own` goes in its main policy, which the function waits for. Statements naming
 * the user pool (`pool`) would make that a cycle, so they go in a separate policy created after the pool.
 */
export interface FunctionGrants {
  readonly own: readonly PolicyStatement[];
  readonly pool: readonly PolicyStatement[];
}

function need(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`${what} exists only in custom-senders mode`);
  return value;
}

/** The grants of one function, beyond writing to its own log group. */
export function functionGrants(name: FunctionName, t: GrantTargets): FunctionGrants {
  const sendEmail = allow('SendEmailAsSender', ['ses:SendEmail'], t.sesIdentityArns);
  switch (name) {
    case 'pre-sign-up':
      return { own: [allow('StartReminderWorkflow', ['states:StartExecution'], [t.stateMachineArn])], pool: [] };
    case 'custom-message':
    case 'pre-token-generation':
      return { own: [], pool: [] };
    case 'post-confirmation':
      // Saves the profile; the table's stream carries the welcome email on from there (functions/post-confirmation/confirm.ts).
      // After a password reset it deletes the login's attempt state, and no other item.
      return {
        own: [
          allowItems('SaveProfile', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.user]),
          allowItems('ClearLockAfterReset', ['dynamodb:DeleteItem'], t.tableArn, [ITEM_PREFIX.lockout]),
        ],
        pool: [],
      };
    case 'send-welcome-email':
      // Its event source mapping reads the stream with this role and reports what it gave up on to the queue;
      // the function sends once through the idempotency records and marks the profile SENT.
      return {
        own: [
          allow('ReadTableStream', STREAM_READ_ACTIONS, [t.tableStreamArn]),
          { ...allow('ListTableStreams', UNSCOPABLE_STREAM_ACTIONS, ['*']), Condition: { StringEquals: { 'aws:RequestedRegion': t.region } } },
          allow('ReportFailedRecords', ['sqs:SendMessage'], [t.welcomeFailureQueueArn]),
          allowItems('WelcomeOnce', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
          allowItems('MarkProfileSent', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
          sendEmail,
        ],
        pool: [],
      };
    case 'pre-authentication':
      return { own: [allowItems('CountAttempts', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.lockout])], pool: [] };
    case 'post-authentication':
      // One statement per action and item kind (functions/post-authentication/record.ts): the dedupe marker
      // is put, the audit entry put and the profile updated (both USER#), the attempt state deleted. Nothing
      // else: it can neither delete a profile nor write a lockout counter. It reads the method
      // verify-auth-challenge-response left for a passwordless sign-in.
      return {
        own: [
          allowItems('PinSignInTime', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.dedupe]),
          allowItems('AuditSignIn', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.user]),
          allowItems('RecordLastLogin', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
          allowItems('ClearAttemptState', ['dynamodb:DeleteItem'], t.tableArn, [ITEM_PREFIX.lockout]),
          allowItems('ReadSignInMethod', ['dynamodb:GetItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
        ],
        pool: [],
      };
    case 'define-auth-challenge':
      return { own: [], pool: [] };
    case 'create-auth-challenge':
      // Counts messages (UpdateItem on the throttle), stores a challenge's hash (PutItem), reads it back to
      // re-present it after a wrong answer (GetItem); nothing else in the table, and mail only as the sender.
      return {
        own: [
          allowItems('ThrottleMessages', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
          allowItems('StoreChallengeHash', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
          allowItems('ReadChallengeHash', ['dynamodb:GetItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
          sendEmail,
        ],
        pool: [],
      };
    case 'verify-auth-challenge-response':
      // Marks a challenge used (conditional UpdateItem) and leaves the sign-in method for the audit (PutItem).
      return {
        own: [
          allowItems('ConsumeChallenge', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
          allowItems('MarkSignInMethod', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
        ],
        pool: [],
      };
    case 'user-migration':
      return { own: [allow('ReadLegacyPool', ['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminGetUser'], [t.legacyUserPoolArn])], pool: [] };
    case 'custom-email-sender':
    case 'custom-sms-sender': {
      const secret = name === 'custom-email-sender' ? need(t.sendgridSecretArn, 'The SendGrid secret') : need(t.twilioSecretArn, 'The Twilio secret');
      return {
        own: [
          allow('DecryptCodes', ['kms:Decrypt'], [need(t.kmsKeyArn, 'The sender key')]),
          allow('ReadProviderSecret', ['secretsmanager:GetSecretValue'], [secret]),
          allowItems('Idempotency', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
        ],
        pool: [],
      };
    }
    case 'send-reminder':
      return {
        own: [allowItems('Idempotency', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]), sendEmail],
        pool: [allow('ReadUser', ['cognito-idp:AdminGetUser'], [t.userPoolArn])],
      };
    case 'delete-unconfirmed-user':
      return { own: [sendEmail], pool: [allow('DeleteUnconfirmedUser', ['cognito-idp:AdminGetUser', 'cognito-idp:AdminDeleteUser'], [t.userPoolArn])] };
  }
}
