/**
 * The environment of each function, exactly as the runtime contract lists it. The stack calls this with
 * Terraform references; the sandbox calls it with its local names, so both give functions the same variables.
 */
import { FUNCTIONS, type FunctionName } from '../functions/catalog.ts';
import { ENV, type EnvName } from '../functions/common/config.ts';
import type { Config } from './config.ts';

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

/** Variables every function gets besides its own. */
export function commonEnvironment(name: FunctionName, config: Pick<Config, 'logs'>): Record<string, string> {
  return { POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_LOG_LEVEL: config.logs.level };
}

function required(value: string | undefined, what: string, fn: FunctionName): string {
  if (value === undefined) throw new Error(`${fn} needs ${what}, which exists only in custom-senders mode`);
  return value;
}

/**
 * The function-specific variables of one function (without the common two), per the contract table.
 */
export function functionEnvironment(name: FunctionName, config: Config, refs: ResourceRefs): Record<string, string> {
  const branding = { [ENV.appName]: config.email.appName, [ENV.appUrl]: config.email.appUrl };
  const sender = { [ENV.fromEmailAddress]: config.email.fromAddress, [ENV.fromEmailName]: config.email.fromName };
  // The one domain rule, given to every function on a path where an address enters the pool or receives mail.
  const domainPolicy = {
    [ENV.allowedEmailDomains]: config.signUp.allowedEmailDomains.join(','),
    [ENV.allowSubdomains]: String(config.signUp.allowSubdomains),
  };
  switch (name) {
    case 'pre-sign-up':
      return { ...domainPolicy, [ENV.reminderStateMachineArn]: refs.reminderStateMachineArn };
    case 'custom-message':
      return { ...branding, ...domainPolicy };
    case 'post-confirmation':
      return { [ENV.tableName]: refs.tableName };
    case 'send-welcome-email':
      return { [ENV.tableName]: refs.tableName, ...branding, ...sender };
    case 'pre-authentication':
      return {
        [ENV.tableName]: refs.tableName,
        [ENV.lockoutMaxAttempts]: String(config.lockout.maxAttempts),
        [ENV.lockoutWindowSeconds]: String(config.lockout.windowSeconds),
        [ENV.lockoutDurationSeconds]: String(config.lockout.lockSeconds),
        [ENV.lockoutEscalation]: String(config.lockout.escalate),
        [ENV.lockoutMaxDurationSeconds]: String(config.lockout.maxLockSeconds),
        [ENV.lockoutFailMode]: config.lockout.failMode,
      };
    case 'post-authentication':
      return { [ENV.tableName]: refs.tableName, [ENV.auditRetentionDays]: String(config.audit.retentionDays) };
    case 'pre-token-generation':
      return domainPolicy;
    case 'user-migration':
      return {
        ...domainPolicy,
        [ENV.legacyUserPoolId]: refs.legacy.userPoolId,
        [ENV.legacyClientId]: refs.legacy.clientId,
        [ENV.legacyRegion]: refs.legacy.region,
      };
    case 'define-auth-challenge':
      // Decides from the event alone.
      return {};
    case 'create-auth-challenge':
      return {
        [ENV.tableName]: refs.tableName,
        ...branding,
        ...sender,
        ...domainPolicy,
        [ENV.passwordlessLinkUrl]: `${config.email.appUrl}${config.passwordless.linkPath}`,
        [ENV.passwordlessValiditySeconds]: String(config.passwordless.validityMinutes * 60),
        [ENV.passwordlessMinIntervalSeconds]: String(config.passwordless.minIntervalSeconds),
        [ENV.passwordlessMaxPerHour]: String(config.passwordless.maxPerHour),
      };
    case 'verify-auth-challenge-response':
      return { [ENV.tableName]: refs.tableName };
    case 'custom-email-sender':
      return {
        [ENV.kmsKeyArn]: required(refs.kmsKeyArn, 'the KMS key', name),
        [ENV.tableName]: refs.tableName,
        [ENV.sendgridSecretArn]: required(refs.sendgridSecretArn, 'the SendGrid secret', name),
        [ENV.sendgridApiBaseUrl]: config.providers.sendgridApiBaseUrl,
        ...branding,
        ...sender,
        ...domainPolicy,
      };
    case 'custom-sms-sender':
      return {
        [ENV.kmsKeyArn]: required(refs.kmsKeyArn, 'the KMS key', name),
        [ENV.tableName]: refs.tableName,
        [ENV.twilioSecretArn]: required(refs.twilioSecretArn, 'the Twilio secret', name),
        [ENV.twilioApiBaseUrl]: config.providers.twilioApiBaseUrl,
        [ENV.appName]: config.email.appName,
        ...domainPolicy,
      };
    case 'send-reminder':
      // The table holds its idempotency records: one reminder however often the workflow replays the task.
      return { [ENV.tableName]: refs.tableName, ...branding, ...sender };
    case 'delete-unconfirmed-user':
      return { ...branding, ...sender };
  }
}

const PLACEHOLDER = 'placeholder';
const PLACEHOLDER_REFS: ResourceRefs = {
  tableName: PLACEHOLDER,
  reminderStateMachineArn: PLACEHOLDER,
  kmsKeyArn: PLACEHOLDER,
  sendgridSecretArn: PLACEHOLDER,
  twilioSecretArn: PLACEHOLDER,
  legacy: { userPoolId: PLACEHOLDER, clientId: PLACEHOLDER, region: PLACEHOLDER },
};

/**
 * The names of one function's variables (without the common two), read off {@link functionEnvironment}
 * itself, so the benchmark and the test harnesses list them from the table the stack uses instead of
 * keeping copies of it.
 */
export function environmentNames(name: FunctionName, config: Config): EnvName[] {
  return Object.keys(functionEnvironment(name, config, PLACEHOLDER_REFS)) as EnvName[];
}

/** {@link environmentNames} of every function in the catalog. */
export function environmentTable(config: Config): Record<FunctionName, EnvName[]> {
  const table = {} as Record<FunctionName, EnvName[]>;
  for (const f of FUNCTIONS) table[f.name] = environmentNames(f.name, config);
  return table;
}

/** The region of the legacy pool: configured, else the pool id's own, else the stack's. */
export function legacyRegion(config: Config): string {
  if (config.legacyPool.create) return config.region;
  return config.legacyPool.region || config.legacyPool.userPoolId.split('_')[0] || config.region;
}
