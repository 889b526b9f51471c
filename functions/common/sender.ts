/**
 * What the custom email and SMS senders share: check the event, decrypt the code, compose the message
 * from the shared templates, deliver it once.
 *
 * Cognito invokes the senders asynchronously, so a thrown error makes Lambda retry (twice, then the
 * event goes to the function's failure destination). Every failure therefore throws: a swallowed error
 * is a code that silently never arrives. Retries are made safe by Powertools Idempotency, keyed on a
 * hash of the encrypted code, so a retried or duplicated invocation delivers exactly once.
 */
import { createHash } from 'node:crypto';
import type { Context, CustomEmailSenderTriggerEvent, CustomSMSSenderTriggerEvent } from 'aws-lambda';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { BrandingSettings } from './config.ts';
import { CODE_KINDS, messageKindForSource, type MessageContext, type MessageKind } from './templates.ts';
import { unescapeHtml, type DecryptCode } from './code-decryption.ts';
import { emailDomain, fingerprint, logger } from './logger.ts';
import { errorName } from './errors.ts';
import type { AddressProblem } from './identity.ts';

/** Any event either sender receives. */
export type SenderEvent = CustomEmailSenderTriggerEvent | CustomSMSSenderTriggerEvent;

/** How one channel (email or SMS) finds its recipient, renders and delivers. */
export interface Channel<Rendered> {
  readonly name: 'email' | 'sms';
  /** Trigger sources this channel accepts start with this. */
  readonly sourcePrefix: 'CustomEmailSender_' | 'CustomSMSSender_';
  /** The destination, from the user's attributes; `undefined` when the user has none. */
  recipient(attributes: Readonly<Record<string, string>>): string | undefined;
  render(kind: MessageKind, context: MessageContext): Rendered;
  /** Sends; rejects on any provider error or timeout. */
  deliver(to: string, message: Rendered): Promise<void>;
  /**
   * Whether a message of `kind` may go to this user at all, checked before anything is decrypted or sent.
   * Both channels apply the domain policy to the event's `email` (functions/common/recipient-policy.ts); a
   * channel without the method permits every recipient it finds.
   */
  permits?(kind: MessageKind, attributes: Readonly<Record<string, string>>): RecipientVerdict;
}

/** A channel's answer on a recipient. */
export type RecipientVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: AddressProblem | 'domain-not-allowed'; readonly domain?: string };

/** Everything the delivery logic needs, injected so tests can stub each part. */
export interface SenderDeps<Rendered> {
  readonly channel: Channel<Rendered>;
  readonly decrypt: DecryptCode;
  readonly branding: BrandingSettings;
}

/**
 * What a handled event records (stored by Powertools Idempotency, so it holds no personal data): a
 * delivery, or a refusal of the recipient, which is final: retrying cannot make the address allowed.
 */
export type DeliveryResult =
  | { readonly delivered: true; readonly channel: 'email' | 'sms'; readonly kind: MessageKind }
  | { readonly delivered: false; readonly channel: 'email' | 'sms'; readonly kind: MessageKind; readonly refused: AddressProblem | 'domain-not-allowed' };

/** The event cannot be delivered as it stands; retrying will not help, but it is still thrown so the failure is recorded. */
export class UndeliverableError extends Error {
  override readonly name = 'UndeliverableError';
}

type Attributes = Readonly<Record<string, string>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the parts of the event we rely on, so a malformed event fails with a clear, data-free reason. */
function checkEvent(event: unknown, sourcePrefix: string): asserts event is SenderEvent {
  if (!isRecord(event)) throw new UndeliverableError('The event is not an object');
  if (typeof event.triggerSource !== 'string' || !event.triggerSource.startsWith(sourcePrefix)) {
    throw new UndeliverableError(`The trigger source is not a ${sourcePrefix}* source`);
  }
  if (typeof event.userPoolId !== 'string' || event.userPoolId === '') throw new UndeliverableError('The event has no userPoolId');
  if (typeof event.userName !== 'string') throw new UndeliverableError('The event has no userName');
  if (!isRecord(event.request) || !isRecord(event.request.userAttributes)) {
    throw new UndeliverableError('The event has no request.userAttributes');
  }
}

/**
 * The idempotency key: a hash of the encrypted code with the source, pool and user. Cognito encrypts every
 * code afresh (random data key and IV), so equal ciphertexts mean the same message retried. Account-takeover
 * notices carry no code; their EVENT_ID identifies them instead.
 */
export function idempotencyKey(event: SenderEvent): string {
  const attributes = event.request.userAttributes as Attributes;
  const identity = event.request.code ?? attributes.EVENT_ID ?? null;
  if (typeof identity !== 'string' || identity === '') throw new UndeliverableError('The event has neither a code nor an EVENT_ID');
  return createHash('sha256').update(JSON.stringify([event.triggerSource, event.userPoolId, event.userName, identity])).digest('hex');
}

/**
 * The name the user signs in with, shown next to a temporary password. When email or phone is the
 * username attribute, Cognito's userName is the user's sub, which nobody can type, so show the alias.
 */
function signInName(event: SenderEvent, attributes: Attributes): string {
  if (event.userName !== '' && event.userName !== attributes.sub) return event.userName;
  return attributes.email ?? attributes.phone_number ?? event.userName;
}

/** The message kind of a checked event; throws for a source no message is defined for. */
function kindOf(event: SenderEvent): MessageKind {
  const kind = messageKindForSource(event.triggerSource);
  if (!kind) throw new UndeliverableError(`No message is defined for ${event.triggerSource}`);
  return kind;
}

/**
 * The refusal of this event's recipient, or `undefined` when the channel permits it. Logged at WARN with
 * the user's fingerprint and the address's domain: an operator sees who was refused, and no alarm fires,
 * since a refusal is the policy working, not a failure.
 */
function refusedRecipient<Rendered>(event: SenderEvent, channel: Channel<Rendered>): DeliveryResult | undefined {
  const kind = kindOf(event);
  const verdict = channel.permits?.(kind, event.request.userAttributes as Attributes) ?? { allowed: true };
  if (verdict.allowed) return undefined;
  logger.warn('Message not delivered: the email address is outside the domain policy; not retried', {
    channel: channel.name,
    kind,
    user: fingerprint(event.userName),
    reason: verdict.reason,
    ...(verdict.domain ? { emailDomain: verdict.domain } : {}),
  });
  return { delivered: false, channel: channel.name, kind, refused: verdict.reason };
}

/**
 * Delivers the message for one sender event. Throws on anything that prevents delivery: an unknown
 * source, a missing recipient, a code that does not decrypt or belongs to another pool, a provider failure.
 * A recipient the channel does not permit is not a failure: nothing is decrypted or sent, and the
 * refusal is returned.
 */
export async function deliverCustomMessage<Rendered>(event: SenderEvent, deps: SenderDeps<Rendered>): Promise<DeliveryResult> {
  checkEvent(event, deps.channel.sourcePrefix);
  const kind = kindOf(event);
  const attributes = event.request.userAttributes as Attributes;
  const to = deps.channel.recipient(attributes);
  if (!to) throw new UndeliverableError(`The user has no ${deps.channel.name === 'email' ? 'email address' : 'phone number'}`);
  const refused = refusedRecipient(event, deps.channel);
  if (refused) return refused;

  let code: string | undefined;
  if (CODE_KINDS.has(kind)) {
    if (typeof event.request.code !== 'string' || event.request.code === '') throw new UndeliverableError('The event has no code');
    code = await deps.decrypt(event.request.code, event.userPoolId);
    if (kind === 'AdminCreateUser') code = unescapeHtml(code);
  }

  const message = deps.channel.render(kind, {
    branding: deps.branding,
    recipient: { name: attributes.name ?? attributes.given_name, email: attributes.email },
    ...(code === undefined ? {} : { code }),
    username: signInName(event, attributes),
  });
  await deps.channel.deliver(to, message);
  logger.info('Message delivered', {
    channel: deps.channel.name,
    kind,
    user: fingerprint(event.userName),
    ...(deps.channel.name === 'email' ? { emailDomain: emailDomain(to) } : {}),
  });
  return { delivered: true, channel: deps.channel.name, kind };
}

/** Idempotency settings for the senders. */
export interface IdempotencySettings {
  readonly persistenceStore: BasePersistenceLayer;
  /**
   * How long a delivery is remembered. Lambda retries an asynchronous event for up to 6 hours, so a
   * day covers every retry with room to spare.
   */
  readonly expiresAfterSeconds?: number;
}

/**
 * Deadline for one provider request. Senders are asynchronous, so this is not bounded by Cognito's 5 s;
 * it only has to be well inside the function timeout so a hung provider becomes a thrown, retried error.
 */
export const PROVIDER_TIMEOUT_MS = 5_000;

/** Remember deliveries for a day. */
export const DELIVERY_MEMORY_SECONDS = 24 * 3600;

/**
 * The sender's entry point: delivers exactly once per message however often it is invoked. A delivery
 * in progress elsewhere, or a failure, throws so that Lambda retries; a completed one returns its record.
 * A recipient the channel refuses returns at once, before the idempotency record and the KMS call: a
 * permanent outcome that Lambda must not retry.
 */
export function idempotentSender<Rendered>(
  deps: SenderDeps<Rendered>,
  settings: IdempotencySettings,
): (event: SenderEvent, context?: Context) => Promise<DeliveryResult> {
  const config = new IdempotencyConfig({ expiresAfterSeconds: settings.expiresAfterSeconds ?? DELIVERY_MEMORY_SECONDS });
  // Only our hash reaches Powertools (and so the table): never the ciphertext or the event.
  const once = makeIdempotent((_key: { messageKey: string }, event: SenderEvent) => deliverCustomMessage(event, deps), {
    persistenceStore: settings.persistenceStore,
    config,
    dataIndexArgument: 0,
  });
  return async (event, context) => {
    // The remaining time bounds how long an in-progress record blocks a retry after a timeout.
    if (context) config.registerLambdaContext(context);
    try {
      checkEvent(event, deps.channel.sourcePrefix);
      if (deps.channel.recipient(event.request.userAttributes as Attributes)) {
        const refused = refusedRecipient(event, deps.channel);
        if (refused) return refused;
      }
      return await once({ messageKey: idempotencyKey(event) }, event);
    } catch (error) {
      logger.error('Message not delivered; throwing so Lambda retries', {
        channel: deps.channel.name,
        source: isRecord(event) && typeof event.triggerSource === 'string' ? event.triggerSource.slice(0, 64) : undefined,
        error: errorName(error),
        ...failureDetails(error),
      });
      throw error;
    }
  };
}

/** Safe detail fields of our own errors (reasons, HTTP statuses); never messages from libraries. */
function failureDetails(error: unknown): Record<string, string | number> {
  if (!isRecord(error)) return {};
  const details: Record<string, string | number> = {};
  if (typeof error.reason === 'string') details.reason = error.reason;
  if (typeof error.status === 'number') details.status = error.status;
  if (typeof error.providerCode === 'string') details.providerCode = error.providerCode;
  if (error instanceof UndeliverableError) details.detail = error.message;
  return details;
}
