/**
 * Attribute changes as Cognito makes them, where cognito-local's would hide a bypass of the domain
 * policy:
 *
 * - `attributes_require_verification_before_update`: a change of a listed attribute (here `email`) is held
 *   as pending. The verified value stays in force, for sign-in and for every message, until the user
 *   types the code sent to the new value (VerifyUserAttribute). cognito-local holds it back on
 *   UpdateUserAttributes only, and its messages describe the user by the old value; here
 *   AdminUpdateUserAttributes holds it too (unless the same request sets `email_verified` to `true`, as
 *   Cognito documents), and the custom-message and custom-sender events name the pending value, which is
 *   where the code goes;
 * - the app client's `write_attributes`: a client writing anything else (a verification flag above all)
 *   is refused with Cognito's `NotAuthorizedException`, on SignUp and UpdateUserAttributes;
 * - GetUserAttributeVerificationCode sends the code to the attribute named (cognito-local always uses the
 *   pool's auto-verified attribute), and to its pending value when there is one;
 * - a code verifies only the attribute it was sent for, and VerifyUserAttribute applies only that
 *   attribute's pending value (cognito-local keeps one code per user and applies every pending change on
 *   any verification, so a code texted to the user's own phone would verify an email change).
 *
 * A message a trigger refuses fails the call (custom-message) or is dropped by the sender; the pending
 * value then stays held with a code nobody received. docs/sandbox.md lists what is not emulated.
 */
import { createRequire } from 'node:module';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { User, UserPoolService } from 'cognito-local/lib/services/userPoolService.js';
import type { StackClient, StackPool } from '../stack.ts';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-require-imports */
const errors = require('cognito-local/lib/errors.js') as typeof import('cognito-local/lib/errors.js');
const { attributesAppend, validatePermittedAttributeChanges } = require('cognito-local/lib/services/userPoolService.js') as typeof import('cognito-local/lib/services/userPoolService.js');
const { USER_POOL_AWS_DEFAULTS } = require('cognito-local/lib/services/cognitoService.js') as typeof import('cognito-local/lib/services/cognitoService.js');
/* eslint-enable @typescript-eslint/no-require-imports */

type Attribute = { Name: string; Value?: string };
type Delivery = { AttributeName: string; DeliveryMedium: 'EMAIL' | 'SMS'; Destination: string };

/** The message sources whose code goes to the value being changed or verified, so the events describe the user by it. */
const PENDING_SOURCES = new Set(['UpdateUserAttribute', 'VerifyUserAttribute']);
/** How a stored code names the attribute it was sent for: `<attribute>:<code>`, which no code cognito-local issues matches. */
const boundCode = (name: string, code: string) => `${name}:${code}`;
/** The contact attributes whose change makes them unverified, and their flags. */
const VERIFIED_FLAG: Readonly<Record<string, string>> = { email: 'email_verified', phone_number: 'phone_number_verified' };

/** Cognito's refusal of a client writing an attribute outside its `write_attributes`. */
export const UNAUTHORIZED_WRITE = 'A client attempted to write unauthorized attribute';

/** What the attribute targets need from the cognito-local instance they serve. */
export interface AttributeUpdateDeps {
  readonly pool: StackPool;
  userPool(ctx: Context): Promise<UserPoolService>;
  /** The instance's message delivery (custom-message and SES, or the custom senders). */
  deliver(ctx: Context, source: string, clientId: string | null, userPoolId: string, user: User, code: string, clientMetadata: Record<string, string> | undefined, delivery: Delivery): Promise<void>;
  otp(): string;
  now(): Date;
}

function value(attributes: readonly Attribute[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

/**
 * The user as a message about their attributes describes them: for UpdateUserAttribute and
 * VerifyUserAttribute, with the pending value of the attribute the code goes to (and its flag) in place
 * of the verified one, since Cognito's custom senders find their recipient in the event's attributes.
 * Every other attribute keeps its verified value: a text to the phone while an email change is pending
 * names the verified email.
 */
export function messageUser(user: User, source: string, attributeName: string | undefined): User {
  const flag = attributeName === undefined ? undefined : VERIFIED_FLAG[attributeName];
  const pending = (user.UnverifiedAttributeChanges ?? []).filter((a) => a.Name === attributeName || a.Name === flag);
  if (!PENDING_SOURCES.has(source) || pending.length === 0) return user;
  return { ...user, Attributes: attributesAppend(user.Attributes, ...pending) };
}

/** Throws Cognito's NotAuthorizedException when `client` may not write one of `attributes`. */
export function checkClientWrites(client: StackClient | undefined, attributes: readonly Attribute[] | undefined): void {
  if (!client?.writeAttributes) return;
  const allowed = new Set(client.writeAttributes);
  if ((attributes ?? []).some((a) => !allowed.has(a.Name))) throw new errors.NotAuthorizedError(UNAUTHORIZED_WRITE);
}

/** SignUp's attributes against the client's `write_attributes`, before the call reaches cognito-local. */
export function checkSignUpWrites(operation: string, body: Record<string, unknown>, pool: StackPool): void {
  if (operation !== 'SignUp') return;
  checkClientWrites(
    pool.clients.find((c) => c.id === body.ClientId),
    body.UserAttributes as Attribute[] | undefined,
  );
}

function tokenClaims(token: unknown): { sub?: string; client_id?: string } {
  try {
    return JSON.parse(Buffer.from(String(token ?? '').split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { sub?: string; client_id?: string };
  } catch {
    return {};
  }
}

/** Where a verification code for `name` goes: its pending value when a change is held, else its value. */
function destination(user: User, name: string): Delivery | undefined {
  const to = value(user.UnverifiedAttributeChanges, name) ?? value(user.Attributes, name);
  if (!to) return undefined;
  return { AttributeName: name, DeliveryMedium: name === 'phone_number' ? 'SMS' : 'EMAIL', Destination: to };
}

/** The four targets that replace cognito-local's. */
export function attributeUpdateTargets(deps: AttributeUpdateDeps): Record<string, (ctx: Context, req: Record<string, unknown>) => Promise<object>> {
  const { pool } = deps;
  const schema = (userPool: UserPoolService) => userPool.options.SchemaAttributes ?? USER_POOL_AWS_DEFAULTS.SchemaAttributes ?? [];

  /**
   * Applies `requested` to `user`. A change of a held attribute becomes pending unless an administrator
   * sets its flag to `true` in the same request; any other change of a contact attribute makes it
   * unverified. When something now awaits verification, a code goes to it (`UpdateUserAttribute`).
   */
  async function update(ctx: Context, userPool: UserPoolService, user: User, requested: Attribute[], admin: boolean, clientId: string | null, clientMetadata?: Record<string, string>): Promise<Delivery[]> {
    validatePermittedAttributeChanges(requested, schema(userPool));
    const immediate: Attribute[] = [];
    const pending = new Map((user.UnverifiedAttributeChanges ?? []).map((a) => [a.Name, a]));
    for (const attribute of requested) {
      const flag = VERIFIED_FLAG[attribute.Name];
      const changed = flag !== undefined && attribute.Value !== value(user.Attributes, attribute.Name);
      const verifiedByRequest = admin && flag !== undefined && value(requested, flag) === 'true';
      if (changed && !verifiedByRequest && pool.verifyBeforeUpdate.includes(attribute.Name)) {
        pending.set(attribute.Name, attribute).set(flag, { Name: flag, Value: 'false' });
        continue;
      }
      immediate.push(attribute);
      if (flag === undefined) continue;
      // A value written outright replaces whatever was pending for it.
      pending.delete(attribute.Name);
      pending.delete(flag);
      if (changed && value(requested, flag) === undefined) immediate.push({ Name: flag, Value: 'false' });
    }
    const saved: User = {
      ...user,
      Attributes: attributesAppend(user.Attributes, ...immediate),
      UserLastModifiedDate: deps.now(),
      UnverifiedAttributeChanges: pending.size > 0 ? [...pending.values()] : undefined,
    };
    await userPool.saveUser(ctx, saved);
    // One code per request, as Cognito sends: to the first auto-verified attribute now awaiting verification.
    const awaiting = Object.keys(VERIFIED_FLAG).find(
      (name) => pool.autoVerifiedAttributes.includes(name) && requested.some((a) => a.Name === name) && (pending.has(name) || value(immediate, VERIFIED_FLAG[name]!) === 'false'),
    );
    const delivery = awaiting === undefined ? undefined : destination(saved, awaiting);
    if (!delivery) return [];
    const code = deps.otp();
    const withCode = { ...saved, AttributeVerificationCode: boundCode(delivery.AttributeName, code) };
    await userPool.saveUser(ctx, withCode);
    await deps.deliver(ctx, 'UpdateUserAttribute', clientId, pool.id, withCode, code, clientMetadata, delivery);
    return [delivery];
  }

  async function signedInUser(ctx: Context, accessToken: unknown): Promise<{ user: User; userPool: UserPoolService; clientId: string | null }> {
    const claims = tokenClaims(accessToken);
    const userPool = await deps.userPool(ctx);
    const user = claims.sub ? await userPool.getUserByUsername(ctx, claims.sub) : null;
    if (!user) throw new errors.NotAuthorizedError('Invalid Access Token');
    return { user, userPool, clientId: claims.client_id ?? null };
  }

  return {
    async UpdateUserAttributes(ctx, req) {
      const { user, userPool, clientId } = await signedInUser(ctx, req.AccessToken);
      const requested = (req.UserAttributes as Attribute[] | undefined) ?? [];
      checkClientWrites(
        pool.clients.find((c) => c.id === clientId),
        requested,
      );
      const deliveries = await update(ctx, userPool, user, requested, false, clientId, req.ClientMetadata as Record<string, string> | undefined);
      return { CodeDeliveryDetailsList: deliveries };
    },

    async AdminUpdateUserAttributes(ctx, req) {
      const userPool = await deps.userPool(ctx);
      const user = await userPool.getUserByUsername(ctx, String(req.Username ?? ''));
      if (!user) throw new errors.UserNotFoundError('User does not exist.');
      await update(ctx, userPool, user, (req.UserAttributes as Attribute[] | undefined) ?? [], true, null, req.ClientMetadata as Record<string, string> | undefined);
      return {};
    },

    async GetUserAttributeVerificationCode(ctx, req) {
      const { user, userPool, clientId } = await signedInUser(ctx, req.AccessToken);
      const name = String(req.AttributeName ?? 'email');
      const delivery = destination(user, name);
      if (!delivery) throw new errors.InvalidParameterError(`User has no attribute ${name}`);
      const code = deps.otp();
      const withCode = { ...user, AttributeVerificationCode: boundCode(name, code) };
      await userPool.saveUser(ctx, withCode);
      await deps.deliver(ctx, 'VerifyUserAttribute', clientId, pool.id, withCode, code, req.ClientMetadata as Record<string, string> | undefined, delivery);
      return { CodeDeliveryDetails: delivery };
    },

    /** Applies the named attribute's pending value, if any, and marks it verified; nothing else changes. */
    async VerifyUserAttribute(ctx, req) {
      const { user, userPool } = await signedInUser(ctx, req.AccessToken);
      const name = String(req.AttributeName ?? '');
      const flag = VERIFIED_FLAG[name];
      if (flag === undefined) throw new errors.InvalidParameterError(`Attribute ${name} cannot be verified`);
      if (user.AttributeVerificationCode === undefined || user.AttributeVerificationCode !== boundCode(name, String(req.Code ?? ''))) {
        throw new errors.CodeMismatchError();
      }
      const pending = user.UnverifiedAttributeChanges ?? [];
      const applied = pending.filter((a) => a.Name === name);
      const kept = pending.filter((a) => a.Name !== name && a.Name !== flag);
      await userPool.saveUser(ctx, {
        ...user,
        Attributes: attributesAppend(user.Attributes, ...applied, { Name: flag, Value: 'true' }),
        UserLastModifiedDate: deps.now(),
        UnverifiedAttributeChanges: kept.length > 0 ? kept : undefined,
        AttributeVerificationCode: undefined,
      });
      return {};
    },
  };
}
