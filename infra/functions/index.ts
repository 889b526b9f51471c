/**
 * Every function's infrastructure, by catalog name: one module per function (./<name>.ts) holding its
 * environment and its grants, pool grants included. The record is typed by the catalog, so a function
 * added to functions/catalog.ts without its module here fails the type check. The stack builds each
 * function's variables and policies from it; the benchmark and the test harnesses list the variables
 * from the same table instead of keeping copies.
 */
import { FUNCTIONS, PASSWORDLESS_FUNCTIONS, SENDER_FUNCTIONS, type FunctionName } from '../../functions/catalog.ts';
import type { EnvName } from '../../functions/common/config.ts';
import type { Config } from '../config.ts';
import { createAuthChallenge } from './create-auth-challenge.ts';
import { customEmailSender } from './custom-email-sender.ts';
import { customMessage } from './custom-message.ts';
import { customSmsSender } from './custom-sms-sender.ts';
import type { FunctionGrants, FunctionInfra, GrantTargets, ResourceRefs } from './define.ts';
import { defineAuthChallenge } from './define-auth-challenge.ts';
import { deleteUnconfirmedUser } from './delete-unconfirmed-user.ts';
import { notifyLockout } from './notify-lockout.ts';
import { postAuthentication } from './post-authentication.ts';
import { postConfirmation } from './post-confirmation.ts';
import { preAuthentication } from './pre-authentication.ts';
import { preSignUp } from './pre-sign-up.ts';
import { preTokenGeneration } from './pre-token-generation.ts';
import { sendReminder } from './send-reminder.ts';
import { sendWelcomeEmail } from './send-welcome-email.ts';
import { userMigration } from './user-migration.ts';
import { verifyAuthChallengeResponse } from './verify-auth-challenge-response.ts';

export type { FunctionGrants, FunctionInfra, GrantTargets, ResourceRefs } from './define.ts';

/** The infrastructure module of each catalog function. */
export const FUNCTION_INFRA: Readonly<Record<FunctionName, FunctionInfra>> = {
  'pre-sign-up': preSignUp,
  'custom-message': customMessage,
  'post-confirmation': postConfirmation,
  'pre-authentication': preAuthentication,
  'post-authentication': postAuthentication,
  'pre-token-generation': preTokenGeneration,
  'user-migration': userMigration,
  'define-auth-challenge': defineAuthChallenge,
  'create-auth-challenge': createAuthChallenge,
  'verify-auth-challenge-response': verifyAuthChallengeResponse,
  'custom-email-sender': customEmailSender,
  'custom-sms-sender': customSmsSender,
  'send-reminder': sendReminder,
  'delete-unconfirmed-user': deleteUnconfirmedUser,
  'send-welcome-email': sendWelcomeEmail,
  'notify-lockout': notifyLockout,
};

/** The function-specific variables of one function (without the common two). */
export function functionEnvironment(name: FunctionName, config: Config, refs: ResourceRefs): Record<string, string> {
  return FUNCTION_INFRA[name].environment(config, refs);
}

/** The grants of one function, beyond writing to its own log group. */
export function functionGrants(name: FunctionName, t: GrantTargets, config: Config): FunctionGrants {
  const infra = FUNCTION_INFRA[name];
  return { own: infra.grants(t, config), pool: infra.poolGrants?.(t) ?? [] };
}

/** Functions whose policy names the user pool, which therefore need a second, separate policy. */
export const POOL_SCOPED_FUNCTIONS: readonly FunctionName[] = FUNCTIONS.map((f) => f.name).filter((name) => FUNCTION_INFRA[name].poolGrants !== undefined);

/** Functions deployed by a configuration: the senders in custom-senders mode, the challenge triggers with passwordless sign-in. */
export function deployedFunctions(config: Pick<Config, 'deliveryMode' | 'passwordless'>): (typeof FUNCTIONS)[number][] {
  return FUNCTIONS.filter(
    (f) => (config.deliveryMode === 'custom-senders' || !SENDER_FUNCTIONS.includes(f.name)) && (config.passwordless.enabled || !PASSWORDLESS_FUNCTIONS.includes(f.name)),
  );
}

/** Functions driven by an event source mapping on the table's stream (each with its own mapping). Deployed in every mode. */
export function streamTaskFunctions(): (typeof FUNCTIONS)[number][] {
  return FUNCTIONS.filter((f) => f.kind === 'async-task');
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

/** The names of one function's variables (without the common two), read off its own module. */
export function environmentNames(name: FunctionName, config: Config): EnvName[] {
  return Object.keys(functionEnvironment(name, config, PLACEHOLDER_REFS)) as EnvName[];
}

/** {@link environmentNames} of every function in the catalog. */
export function environmentTable(config: Config): Record<FunctionName, EnvName[]> {
  const table = {} as Record<FunctionName, EnvName[]>;
  for (const f of FUNCTIONS) table[f.name] = environmentNames(f.name, config);
  return table;
}
