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

/** ses:SendEmail on the sender identity (and, in the SES sandbox, the receivers). */
export function sendEmail(t: GrantTargets): PolicyStatement {
  return allow('SendEmailAsSender', ['ses:SendEmail'], t.sesIdentityArns);
}
