/**
 * Reminds a user who signed up but has not confirmed, if they still have not.
 */
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { BrandingSettings, SenderIdentity } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import { emailDomain, fingerprint, logger } from '../common/logger.ts';
import { renderEmail } from '../common/templates.ts';
import { isTransient, lookUpUser, parseTaskInput, rethrowForWorkflow } from '../common/workflow-task.ts';

export interface ReminderDeps {
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly branding: BrandingSettings;
  readonly from: SenderIdentity;
}

/** The task result the state machine branches on: `pending` means the deletion step is still due. */
export interface ReminderResult {
  readonly pending: boolean;
  readonly status: string;
  /** Whether an email went out on this run. */
  readonly reminded: boolean;
}

/**
 * Emails the reminder when the user exists and is still UNCONFIRMED. Throws `TransientError` when the pool
 * or SES fails in a way a retry may fix. A permanent SES refusal (a rejected address) is logged and the
 * workflow goes on: the reminder is a courtesy, and the clean-up must not hinge on it.
 */
export async function sendReminder(input: unknown, deps: ReminderDeps): Promise<ReminderResult> {
  const task = parseTaskInput(input);
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
  try {
    await sendEmail(deps.ses, deps.from, email, renderEmail('Reminder', { branding: deps.branding, recipient: { name: user.attributes.name ?? user.attributes.given_name, email } }));
  } catch (error) {
    if (isTransient(error)) rethrowForWorkflow(error, 'Sending the reminder');
    logger.error('Reminder refused by SES; the workflow continues', { ...log, error: errorName(error), emailDomain: emailDomain(email) });
    return { pending: true, status: user.status, reminded: false };
  }
  logger.info('Reminder sent', { ...log, emailDomain: emailDomain(email) });
  return { pending: true, status: user.status, reminded: true };
}
