/**
 * What every function's infrastructure module (infra/functions/<name>.ts) fills in, and the pieces
 * several of them share. A function's environment and its grants sit next to each other in its own
 * module; ./index.ts collects every catalog function, typed so that a function missing from it fails the type check.
 */
import { ENV } from '../../functions/common/config.ts';
import type { Config } from '../config.ts';
import { allow, type PolicyStatement } from '../iam.ts';

/** Values only known once resources exist (Terraform references in the stack, local names in the sandbox). */
export interface ResourceRefs {
  /** The DynamoDB table's name. */
  readonly tableName: string;
  /** ARN of the sign-up reminder state machine. */
  readonly reminderStateMachineArn: string;
  /** ARN of the custom-sender KMS key (custom-senders mode). */
  readonly kmsKeyArn?: string;
  /** ARN of the SendGrid secret (custom-senders mode). */
  readonly sendgridSecretArn?: string;
  /** ARN of the Twilio secret (custom-senders mode). */
  readonly twilioSecretArn?: string;
  /** The legacy pool user migration reads. */
  readonly legacy: { readonly userPoolId: string; readonly clientId: string; readonly region: string };
}

/** ARNs the grants name. */
export interface GrantTargets {
  /** The data table. */
  readonly tableArn: string;
  /** The reminder state machine. */
  readonly stateMachineArn: string;
  /** The user pool (only in pool-scoped statements). */
  readonly userPoolArn: string;
  /** The table's stream, which the event source mappings of send-welcome-email and notify-lockout read. */
  readonly tableStreamArn: string;
  /** The queue that receives the welcome-email records Lambda gave up on. */
  readonly welcomeFailureQueueArn: string;
  /** The queue that receives the lock-notice records Lambda gave up on. */
  readonly lockNoticeFailureQueueArn: string;
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

/** One function's infrastructure: its variables and what it may do, beyond writing to its own log group. */
export interface FunctionInfra {
  /** The function-specific variables (POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL are added for all). */
  environment(config: Config, refs: ResourceRefs): Record<string, string>;
  /** Statements of its own policy; `config` for statements that only some configurations need. */
  grants(t: GrantTargets, config: Config): readonly PolicyStatement[];
  /** Statements naming the user pool, in a second policy created after the pool; absent for most functions. */
  poolGrants?(t: GrantTargets): readonly PolicyStatement[];
}

/** The message branding every function that writes to a user gets. */
export function branding(config: Config): Record<string, string> {
  return { [ENV.appName]: config.email.appName, [ENV.appUrl]: config.email.appUrl };
}

/** The SES sender identity of the functions that send email themselves. */
export function sender(config: Config): Record<string, string> {
  return { [ENV.fromEmailAddress]: config.email.fromAddress, [ENV.fromEmailName]: config.email.fromName };
}

/** The one domain rule, given to every function on a path where an address enters the pool or receives mail. */
export function domainPolicy(config: Config): Record<string, string> {
  return {
    [ENV.allowedEmailDomains]: config.signUp.allowedEmailDomains.join(','),
    [ENV.allowSubdomains]: String(config.signUp.allowSubdomains),
  };
}

/** A value that only exists in custom-senders mode; refuses to build a sender without it. */
export function senderOnly(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`${what} exists only in custom-senders mode`);
  return value;
}

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

/**
 * The grants of a function an event source mapping drives from the table's stream: the mapping reads the
 * stream with the function's role and reports what it gave up on to `failureQueueArn`.
 */
export function streamConsumer(t: GrantTargets, failureQueueArn: string): PolicyStatement[] {
  return [
    allow('ReadTableStream', STREAM_READ_ACTIONS, [t.tableStreamArn]),
    { ...allow('ListTableStreams', UNSCOPABLE_STREAM_ACTIONS, ['*']), Condition: { StringEquals: { 'aws:RequestedRegion': t.region } } },
    allow('ReportFailedRecords', ['sqs:SendMessage'], [failureQueueArn]),
  ];
}

/** ses:SendEmail on the sender identity (and, in the SES sandbox, the receivers). */
export function sendEmail(t: GrantTargets): PolicyStatement {
  return allow('SendEmailAsSender', ['ses:SendEmail'], t.sesIdentityArns);
}
