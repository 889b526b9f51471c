/**
 * Deletes a sign-up that was never confirmed, and tells the person so they can sign up again.
 */
import { AdminDeleteUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import { emailDomain, fingerprint, logger } from '../common/logger.ts';
import { renderEmail } from '../common/templates.ts';
import { lookUpUser, parseTaskInput, rethrowForWorkflow, type WorkflowTaskDeps } from '../common/workflow-task.ts';

export type DeletionDeps = WorkflowTaskDeps;

export interface DeletionResult {
  readonly deleted: boolean;
  /** The user's status when checked (`NOT_FOUND` when already gone). */
  readonly status: string;
  /** Whether the deletion notice went out (only meaningful when `deleted`). */
  readonly notified: boolean;
}

/**
 * Deletes the user when they are still UNCONFIRMED, then emails the notice. A user who confirmed or is
 * already gone is left alone and the task succeeds, so replays change nothing.
 *
 * Deletion comes first because it is the step that matters; the address is read beforehand so the notice
 * can still go out. A notice SES refuses after the deletion cannot be retried by the workflow (a retry finds
 * no user), so it is logged as an error and reported as `notified: false` rather than thrown.
 */
export async function deleteUnconfirmedUser(input: unknown, deps: DeletionDeps): Promise<DeletionResult> {
  const task = parseTaskInput(input);
  const user = await lookUpUser(deps.cognito, task);
  const log = { user: fingerprint(task.username), status: user.status };
  if (user.status !== 'UNCONFIRMED' || !('attributes' in user)) {
    logger.info('Nothing to delete', log);
    return { deleted: false, status: user.status, notified: false };
  }

  try {
    await deps.cognito.send(new AdminDeleteUserCommand({ UserPoolId: task.userPoolId, Username: task.username }));
  } catch (error) {
    if (error instanceof Error && error.name === 'UserNotFoundException') {
      logger.info('Nothing to delete', { ...log, status: 'NOT_FOUND' });
      return { deleted: false, status: 'NOT_FOUND', notified: false };
    }
    return rethrowForWorkflow(error, 'Deleting the user');
  }
  logger.info('Unconfirmed user deleted', log);

  const email = user.attributes.email;
  if (!email) return { deleted: true, status: user.status, notified: false };
  try {
    await sendEmail(deps.ses, deps.from, email, renderEmail('AccountDeleted', { branding: deps.branding, recipient: { name: user.attributes.name ?? user.attributes.given_name, email } }));
  } catch (error) {
    logger.error('Deletion notice not sent', { ...log, error: errorName(error), emailDomain: emailDomain(email) });
    return { deleted: true, status: user.status, notified: false };
  }
  logger.info('Deletion notice sent', { ...log, emailDomain: emailDomain(email) });
  return { deleted: true, status: user.status, notified: true };
}
