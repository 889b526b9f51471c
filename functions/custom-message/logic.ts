/**
 * Custom message: replaces Cognito's default email and SMS with the shared templates, so the
 * `cognito` delivery mode speaks with the same voice as our own senders, and refuses every message to
 * an address outside the domain policy (above all a new address a user asks to move to).
 */
import type { CustomMessageTriggerEvent } from 'aws-lambda';
import type { BrandingSettings } from '../common/config.ts';
import { UserFacingError } from '../common/errors.ts';
import type { DomainPolicy } from '../common/identity.ts';
import { logger as defaultLogger } from '../common/logger.ts';
import { checkRecipient } from '../common/recipient-policy.ts';
import { CODE_PLACEHOLDER, USERNAME_PLACEHOLDER, messageKindForSource, renderEmail, renderSms, type MessageContext } from '../common/templates.ts';

export interface CustomMessageDeps {
  readonly branding: BrandingSettings;
  /** The domain rule every recipient must pass. */
  readonly policy: DomainPolicy;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn'>;
}

function placeholder(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

/**
 * Fills `response.emailSubject`, `emailMessage` (HTML) and `smsMessage` for every `CustomMessage_*`
 * source. Cognito substitutes its `{####}` and `{username}` placeholders afterwards, so they are passed
 * through verbatim. An unknown source leaves the event unchanged (Cognito then sends its default
 * message) rather than failing: a missing code is worse than a plain one.
 *
 * Throws a {@link UserFacingError} when the event's `email` is outside the domain policy: Cognito then
 * fails the API call that wanted the message (`CustomMessage failed with error …`) and sends nothing.
 * On `UpdateUserAttribute` and `VerifyUserAttribute` that address is the new one the user asked for.
 * An event without an email (a text to a phone number) is not checked: it sends nothing to an address.
 */
export function customMessage(event: CustomMessageTriggerEvent, deps: CustomMessageDeps): CustomMessageTriggerEvent {
  const log = deps.logger ?? defaultLogger;
  const source = String(event.triggerSource);
  const kind = source.startsWith('CustomMessage_') ? messageKindForSource(source) : undefined;
  if (!kind) {
    log.warn('Unknown custom message source; Cognito default message kept', { triggerSource: source.slice(0, 100) });
    return event;
  }
  const request: Partial<CustomMessageTriggerEvent['request']> = event.request ?? {};
  const attributes: Record<string, unknown> = request.userAttributes ?? {};
  const text = (key: string) => (typeof attributes[key] === 'string' ? (attributes[key] as string) : undefined);
  const name = text('name') ?? text('given_name');
  const email = text('email');
  if (attributes.email !== undefined) {
    const check = checkRecipient(kind, attributes.email, deps.policy);
    if (!check.allowed) {
      log.warn('Message refused: the address is outside the domain policy', {
        triggerSource: source,
        kind,
        reason: check.reason,
        ...(check.domain ? { emailDomain: check.domain } : {}),
      });
      throw new UserFacingError(check.reason, check.message);
    }
  }
  const ctx: MessageContext = {
    branding: deps.branding,
    recipient: { ...(name ? { name } : {}), ...(email ? { email } : {}) },
    code: placeholder(request.codeParameter, CODE_PLACEHOLDER),
    ...(kind === 'AdminCreateUser' ? { username: placeholder(request.usernameParameter, USERNAME_PLACEHOLDER) } : {}),
  };
  const rendered = renderEmail(kind, ctx);
  event.response = { ...event.response, emailSubject: rendered.subject, emailMessage: rendered.html, smsMessage: renderSms(kind, ctx) };
  log.info('Custom message composed', { triggerSource: source, kind, personalised: Boolean(name) });
  return event;
}
