/**
 * API calls the client libraries make in sign-up and password reset that cognito-local lacks or
 * answers differently from Cognito, served inside the backend next to cognito-local's own:
 *
 * - ResendConfirmationCode: a new code through the same channel as the sign-up's (CustomEmailSender /
 *   CustomSMSSender `_ResendCode`, or CustomMessage_ResendCode in the `cognito` delivery mode);
 * - ConfirmSignUp: the attribute the code went to becomes verified (`email_verified` or
 *   `phone_number_verified` is `"true"`) before PostConfirmation sees the user;
 * - ForgotPassword: a user unknown to the pool is migrated with UserMigration_ForgotPassword and left
 *   RESET_REQUIRED until the code is confirmed;
 * - the PreventUserExistenceErrors answers for an unknown user: a simulated delivery instead of
 *   UserNotFoundException;
 * - delivery destinations masked as Cognito masks them (`f***@g***`);
 * - sign-out: RevokeToken ends the refresh token's sign-in, GlobalSignOut and AdminUserGlobalSignOut
 *   every sign-in of the user (their refresh tokens stop working, their access tokens are refused).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { User, UserPoolService } from 'cognito-local/lib/services/userPoolService.js';
import type { CognitoBackend } from './backend.ts';
import { CognitoApiError } from './errors.ts';
import type { PoolTokens } from './tokens.ts';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { selectAppropriateDeliveryMethod } = require('cognito-local/lib/services/messageDelivery/deliveryMethod.js') as typeof import('cognito-local/lib/services/messageDelivery/deliveryMethod.js');

/** One API operation as cognito-local's router runs it. */
export type Target = (ctx: Context, req: Record<string, unknown>) => Promise<unknown>;

interface Delivery {
  AttributeName: string;
  DeliveryMedium: string;
  Destination: string;
}

export interface TargetDeps {
  readonly backend: CognitoBackend;
  /** cognito-local's implementation of an operation. */
  readonly base: (target: string) => Target;
  readonly otp: () => string;
  readonly tokens: PoolTokens;
  /** Sends a code as the pool is configured to (custom senders, custom message, Cognito's own mail). */
  readonly deliver: (ctx: Context, source: string, clientId: string | null, user: User, code: string, clientMetadata: Record<string, string> | undefined, delivery: Delivery) => Promise<void>;
}

/** A destination as Cognito shows it: the first character of each part, the last four digits of a number. */
export function maskDestination(delivery: Delivery): Delivery {
  const d = delivery.Destination;
  const masked = delivery.DeliveryMedium === 'SMS' ? `+${'*'.repeat(Math.max(0, d.length - 5))}${d.slice(-4)}` : d.replace(/^(.)[^@]*@(.).*$/, '$1***@$2***');
  return { ...delivery, Destination: masked };
}

/** What an unknown user is told when the client prevents user-existence errors: a code went somewhere. */
function simulatedDelivery(typed: string): { CodeDeliveryDetails: Delivery } {
  const email = typed.includes('@') ? typed : `${typed}@example.com`;
  return { CodeDeliveryDetails: maskDestination({ AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: email }) };
}

/** The operations the backend serves itself, by API name. */
export function sandboxTargets(deps: TargetDeps): Record<string, Target> {
  const { backend } = deps;
  const pool = backend.options.pool;
  const users = (): Promise<UserPoolService> => backend.userPool();
  const preventsExistenceErrors = (clientId: unknown) => !!pool.clients.find((c) => c.id === clientId)?.preventUserExistenceErrors;
  // The attribute a sign-up code goes to: the pool's auto-verified one the user has (phone first, as Cognito).
  const signUpDelivery = (user: User) => selectAppropriateDeliveryMethod([...pool.autoVerifiedAttributes], user) as Delivery | null;

  const signOutEverywhere = async (ctx: Context, username: string) => {
    const userPool = await users();
    const user = await userPool.getUserByUsername(ctx, username);
    if (!user) throw new CognitoApiError('UserNotFoundException', 'User does not exist.');
    await userPool.saveUser(ctx, { ...user, RefreshTokens: [] });
    deps.tokens.signOutEverywhere(user.Username);
    return {};
  };

  return {
    ResendConfirmationCode: async (ctx, req) => {
      const typed = String(req.Username ?? '');
      const user = await (await users()).getUserByUsername(ctx, typed);
      if (!user) {
        if (preventsExistenceErrors(req.ClientId)) return simulatedDelivery(typed);
        throw new CognitoApiError('UserNotFoundException', 'Username/client id combination not found.');
      }
      if (user.UserStatus === 'CONFIRMED') throw new CognitoApiError('InvalidParameterException', 'User is already confirmed.');
      const delivery = signUpDelivery(user);
      if (!delivery) throw new CognitoApiError('InvalidParameterException', 'Auto verification not turned on.');
      const code = deps.otp();
      await (await users()).saveUser(ctx, { ...user, ConfirmationCode: code, UserLastModifiedDate: new Date() });
      await deps.deliver(ctx, 'ResendCode', String(req.ClientId ?? ''), user, code, req.ClientMetadata as Record<string, string> | undefined, delivery);
      return { CodeDeliveryDetails: maskDestination(delivery) };
    },

    ConfirmSignUp: async (ctx, req) => {
      const userPool = await users();
      const user = await userPool.getUserByUsername(ctx, String(req.Username ?? ''));
      if (!user && preventsExistenceErrors(req.ClientId)) throw new CognitoApiError('CodeMismatchException', 'Invalid verification code provided, please try again.');
      // The right code proves the attribute it was sent to; PostConfirmation then sees it verified.
      const delivery = user && user.ConfirmationCode && user.ConfirmationCode === req.ConfirmationCode ? signUpDelivery(user) : null;
      if (user && delivery) {
        const name = `${delivery.AttributeName}_verified`;
        const Attributes = [...(user.Attributes ?? []).filter((a) => a.Name !== name), { Name: name, Value: 'true' }];
        await userPool.saveUser(ctx, { ...user, Attributes });
      }
      return deps.base('ConfirmSignUp')(ctx, req);
    },

    ForgotPassword: async (ctx, req) => {
      const typed = String(req.Username ?? '');
      let user = await (await users()).getUserByUsername(ctx, typed);
      if (!user && backend.enabled('user_migration')) user = await migrateForReset(ctx, deps, typed, req);
      if (!user) {
        if (preventsExistenceErrors(req.ClientId)) return simulatedDelivery(typed);
        throw new CognitoApiError('UserNotFoundException', 'Username/client id combination not found.');
      }
      const result = (await deps.base('ForgotPassword')(ctx, req)) as { CodeDeliveryDetails: Delivery };
      return { CodeDeliveryDetails: maskDestination(result.CodeDeliveryDetails) };
    },

    RevokeToken: async (ctx, req) => {
      const result = await deps.base('RevokeToken')(ctx, req);
      deps.tokens.revokeRefreshToken(String(req.Token ?? ''));
      return result;
    },

    // The proxy has checked the access token; it names the user.
    GlobalSignOut: async (ctx, req) => signOutEverywhere(ctx, String(deps.tokens.checkAccessToken(String(req.AccessToken ?? '')).username ?? '')),
    AdminUserGlobalSignOut: async (ctx, req) => signOutEverywhere(ctx, String(req.Username ?? '')),
  };
}

/**
 * UserMigration_ForgotPassword: the trigger vouches for the user without a password; Cognito creates
 * them RESET_REQUIRED, and the reset code then goes out as for any user. A refusal leaves the user
 * unknown.
 */
async function migrateForReset(ctx: Context, deps: TargetDeps, typed: string, req: Record<string, unknown>): Promise<User | null> {
  const { backend } = deps;
  const clientId = String(req.ClientId ?? '');
  const event = backend.event(
    'UserMigration_ForgotPassword',
    typed,
    clientId,
    { validationData: {}, clientMetadata: req.ClientMetadata ?? {} },
    { userAttributes: {}, finalUserStatus: undefined, messageAction: undefined, desiredDeliveryMediums: undefined, forceAliasCreation: undefined },
  );
  let response: Record<string, unknown>;
  try {
    response = await backend.trigger('user_migration', event);
  } catch {
    return null;
  }
  const attributes = { ...((response.userAttributes ?? {}) as Record<string, string>) };
  const sub = attributes.sub ?? randomUUID();
  const emailPool = backend.options.pool.usernameAttributes.includes('email');
  const now = new Date();
  const user: User = {
    Username: emailPool ? sub : typed,
    Attributes: Object.entries({ ...attributes, sub }).map(([Name, Value]) => ({ Name, Value })),
    Enabled: true,
    // No password yet: an unguessable one until the reset sets it (RESET_REQUIRED refuses sign-in anyway).
    Password: `${randomUUID()}${randomUUID()}`,
    UserStatus: 'RESET_REQUIRED',
    UserCreateDate: now,
    UserLastModifiedDate: now,
    RefreshTokens: [],
  };
  await (await backend.userPool()).saveUser(ctx, user);
  return user;
}
