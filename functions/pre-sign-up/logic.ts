/**
 * Pre sign-up: the email domain rule and the start of the sign-up reminder workflow.
 */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { errorName, UserFacingError } from '../common/errors.ts';
import { checkSignUpEmail, type DomainPolicy } from '../common/identity.ts';
import { logger as defaultLogger } from '../common/logger.ts';

/** What the logic needs from the outside world. */
export interface PreSignUpDeps {
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly stateMachineArn: string;
  readonly policy: DomainPolicy;
  readonly now: () => number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/** The reminder workflow's execution input; deliberately without the email (no PII in execution history). */
export interface ReminderInput {
  readonly userPoolId: string;
  readonly username: string;
  readonly signedUpAt: string;
}

/**
 * The execution name for one sign-up: the same on every Cognito retry of it (so a retry cannot start a
 * second workflow), different for every new sign-up (with email as the username alias Cognito's
 * `userName` is a fresh UUID each time). Hashed so that it fits Step Functions' 80-character
 * `[A-Za-z0-9_-]` limit whatever the username holds, and reveals nothing about it.
 */
export function reminderExecutionName(userPoolId: string, userName: string): string {
  return `signup-${createHash('sha256').update(`${userPoolId}\n${userName}`).digest('hex').slice(0, 64)}`;
}

/** Only self-service sign-ups wait for confirmation; admin-created and federated users never become UNCONFIRMED. */
const SOURCES_WITH_REMINDER: ReadonlySet<string> = new Set(['PreSignUp_SignUp']);

type WorkflowOutcome = 'started' | 'already-started' | 'failed' | 'not-needed';

/**
 * Starts the reminder workflow. Never throws: a reminder is a courtesy, while refusing the sign-up
 * would turn a Step Functions hiccup into a lost user. A failure is logged at error level (an alarm
 * can watch for `reminderWorkflow: failed`) and the user can still confirm with the code they got.
 */
export async function startReminder(event: PreSignUpTriggerEvent, deps: PreSignUpDeps): Promise<WorkflowOutcome> {
  const log = deps.logger ?? defaultLogger;
  if (!SOURCES_WITH_REMINDER.has(event.triggerSource)) return 'not-needed';
  if (typeof event.userPoolId !== 'string' || typeof event.userName !== 'string' || !event.userPoolId || !event.userName) {
    log.error('Reminder workflow not started: the event names no user', { reminderWorkflow: 'failed', errorName: 'MalformedEvent' });
    return 'failed';
  }
  const name = reminderExecutionName(event.userPoolId, event.userName);
  const input: ReminderInput = { userPoolId: event.userPoolId, username: event.userName, signedUpAt: new Date(deps.now()).toISOString() };
  try {
    await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify(input) }));
    log.info('Reminder workflow started', { reminderWorkflow: 'started', executionName: name });
    return 'started';
  } catch (error) {
    // A Cognito retry of the same sign-up reuses the name; the first attempt already started it.
    if (errorName(error) === 'ExecutionAlreadyExists') {
      log.info('Reminder workflow already started', { reminderWorkflow: 'already-started', executionName: name });
      return 'already-started';
    }
    log.error('Reminder workflow could not start; sign-up continues', { reminderWorkflow: 'failed', executionName: name, errorName: errorName(error) });
    return 'failed';
  }
}

/**
 * Applies the domain rule to every pre sign-up source (self-service, admin-created, federated), then
 * starts the reminder workflow. Never auto-confirms: the response is returned as Cognito sent it.
 * Throws a {@link UserFacingError} when the address is refused.
 */
export async function preSignUp(event: PreSignUpTriggerEvent, deps: PreSignUpDeps): Promise<PreSignUpTriggerEvent> {
  const log = deps.logger ?? defaultLogger;
  const email: unknown = event?.request?.userAttributes?.email;
  const check = checkSignUpEmail(email, deps.policy);
  if (!check.allowed) {
    const federated = event.triggerSource === 'PreSignUp_ExternalProvider';
    const message = federated && check.reason === 'missing' ? 'Your sign-in provider did not share an email address' : check.message;
    log.warn('Sign-up refused', { triggerSource: event.triggerSource, reason: check.reason, ...(check.domain ? { emailDomain: check.domain } : {}) });
    throw new UserFacingError(check.reason, message);
  }
  log.info('Sign-up email accepted', { triggerSource: event.triggerSource, emailDomain: check.address.domain });
  await startReminder(event, deps);
  return event;
}
