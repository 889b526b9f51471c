/**
 * The post-authentication decision around {@link recordSignIn}: refuse events that are not sign-ins
 * of a real user, and never let a storage failure undo a sign-in whose password Cognito has already
 * verified (the failure is logged at error level for alarms; the attempt counter then simply expires).
 */
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { GENERIC_MESSAGE, UserFacingError, errorName } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { recordSignIn, type RecordDeps } from './record.ts';

/** Records a successful sign-in. Throws a {@link UserFacingError} only for a malformed event. */
export async function handleSignIn(deps: RecordDeps, event: PostAuthenticationTriggerEvent): Promise<void> {
  const request = event.request as Partial<PostAuthenticationTriggerEvent['request']> | undefined;
  const attributes = request?.userAttributes;
  const sub = attributes && typeof attributes === 'object' ? attributes.sub : undefined;
  if (event.triggerSource !== 'PostAuthentication_Authentication' || typeof sub !== 'string' || sub === '' || typeof event.userName !== 'string') {
    logger.error('malformed post-authentication event', { reason: 'malformed-event', triggerSource: String(event.triggerSource) });
    throw new UserFacingError('malformed-event', GENERIC_MESSAGE);
  }
  const user = fingerprint(sub);
  try {
    const result = await recordSignIn(deps, event);
    logger.info('sign-in recorded', { user, ...result });
  } catch (error) {
    logger.error('sign-in could not be recorded; sign-in allowed', { user, error: errorName(error) });
  }
}
