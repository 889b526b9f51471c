/**
 * Reminds a user who signed up but has not confirmed, if they still have not.
 *
 * Step Functions replays a task it saw fail or time out (TimeoutSeconds, a Lambda timeout, a lost
 * response), even when the email already went out, and an operator may redrive a failed execution. So the
 * send goes through Powertools Idempotency keyed on (purpose, userPoolId, username), stored in the project
 * table (`pk` = `idempotency#<function>`, `sk` = hash of the key):
 * - a replay after a send answers from the stored record without sending again;
 * - a replay racing a send still in progress throws `TransientError`, and the state machine retries it later;
 * - a send that fails releases the record, so the retry sends (once).
 * The user's status is read fresh on every run: a user who confirmed in between is not reminded.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import { emailDomain, fingerprint, logger } from '../common/logger.ts';
import { renderEmail } from '../common/templates.ts';
import { isTransient, lookUpUser, parseTaskInput, rethrowForWorkflow, TransientError, type TaskInput, type WorkflowTaskDeps } from '../common/workflow-task.ts';

/**
 * How long a reminder is remembered. Task retries are over within minutes, but Step Functions lets an
 * operator redrive a failed execution for 14 days, and a redrive replays the task. Usernames in this pool
 * are subs (email is an alias), so a later sign-up never shares a key with a remembered reminder.
 */
export const REMINDER_MEMORY_SECONDS = 14 * 24 * 3600;

export type ReminderDeps = WorkflowTaskDeps;

/** The task result the state machine branches on: `pending` means the deletion step is still due. */
export interface ReminderResult {
  readonly pending: boolean;
  readonly status: string;
  /** Whether the reminder went out, on this run or on an earlier attempt of the same task. */
  readonly reminded: boolean;
}

/** The idempotency key: identifiers only. Powertools stores its hash, never the key itself. */
interface ReminderKey {
  readonly purpose: 'reminder';
  readonly userPoolId: string;
  readonly username: string;
}

/** Who to remind; `called` tells the caller whether this run sent or an earlier attempt's record answered. */
interface Recipient {
  readonly email: string;
  readonly name: string | undefined;
  readonly log: Record<string, string>;
  called: boolean;
}

/** What the idempotency record keeps: no personal data. */
interface SendOutcome {
  readonly reminded: boolean;
}

/** Builds the idempotent reminder send once (at module scope in the handler). */
export function reminderSender(deps: ReminderDeps, persistenceStore: BasePersistenceLayer) {
  const config = new IdempotencyConfig({ expiresAfterSeconds: REMINDER_MEMORY_SECONDS });
  const once = makeIdempotent(
    async (_key: ReminderKey, to: Recipient): Promise<SendOutcome> => {
      to.called = true;
      try {
        await sendEmail(deps.ses, deps.from, to.email, renderEmail('Reminder', { branding: deps.branding, recipient: { name: to.name, email: to.email } }));
      } catch (error) {
        // Thrown, Powertools releases the record so the state machine's retry can send.
        if (isTransient(error)) rethrowForWorkflow(error, 'Sending the reminder');
        // Remembered: a refusal for good is not worth a second try on replay either.
        logger.error('Reminder refused by SES; the workflow continues', { ...to.log, error: errorName(error), emailDomain: emailDomain(to.email) });
        return { reminded: false };
      }
      logger.info('Reminder sent', { ...to.log, emailDomain: emailDomain(to.email) });
      return { reminded: true };
    },
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return { once, config };
}

export type ReminderSender = ReturnType<typeof reminderSender>;

/**
 * Emails the reminder when the user exists and is still UNCONFIRMED, once however often the task runs.
 * Throws `TransientError` when the pool, SES or the idempotency store fails in a way a retry may fix, or
 * while another attempt of the same task is sending. A permanent SES refusal (a rejected address) is logged
 * and the workflow goes on: the reminder is a courtesy, and the clean-up must not hinge on it.
 */
export async function sendReminder(input: unknown, deps: ReminderDeps, sender: ReminderSender, context?: Context): Promise<ReminderResult> {
  const task: TaskInput = parseTaskInput(input);
  // Lets Powertools expire an in-progress record when this invocation times out, so the retry can send.
  if (context) sender.config.registerLambdaContext(context);
  const user = await lookUpUser(deps.cognito, task);
  const log = { user: fingerprint(task.username), status: user.status };
  if (user.status !== 'UNCONFIRMED' || !('attributes' in user)) {
    logger.info('No reminder due', log);
    return { pending: false, status: user.status, reminded: false };
  }
  const email = user.attributes.email;
  if (!email || !user.enabled) {
    logger.warn('Unconfirmed user cannot be reminded', { ...log, reason: email ? 'disabled' : 'no-email' });
    return { pending: true, status: user.status, reminded: false };
  }
  const to: Recipient = { email, name: user.attributes.name ?? user.attributes.given_name, log, called: false };
  let outcome: SendOutcome;
  try {
    outcome = await sender.once({ purpose: 'reminder', userPoolId: task.userPoolId, username: task.username }, to);
  } catch (error) {
    if (error instanceof TransientError) throw error;
    const name = errorName(error);
    if (name === 'IdempotencyAlreadyInProgressError') {
      throw new TransientError('Another attempt of this task is sending the reminder', { cause: error });
    }
    if (name.startsWith('Idempotency')) {
      // Never sent without a record: a store outage is waited out, not turned into a second reminder.
      logger.warn('Idempotency store failed; the state machine retries', { ...log, error: name });
      throw new TransientError('The idempotency store failed for now', { cause: error });
    }
    return rethrowForWorkflow(error, 'Remembering the reminder');
  }
  if (!to.called) logger.info('Reminder already handled by an earlier attempt; not sent again', { ...log, reminded: outcome.reminded });
  return { pending: true, status: user.status, reminded: outcome.reminded };
}
