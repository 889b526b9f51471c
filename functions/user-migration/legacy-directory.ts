/**
 * Where migrating users come from. The default is a legacy Cognito user pool; a team with another
 * directory (LDAP, a database, an old auth service) implements {@link LegacyDirectory} and passes it to
 * {@link migrateUser} instead.
 */
import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';

/** A user as the legacy directory knows them. */
export interface LegacyUser {
  /** Attributes by their Cognito names (`email`, `given_name`, `custom:x`...). Filtered before use. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The directory's answer: the user, or why not (for logs only; the end user never sees the reason). */
export type LegacyOutcome = { readonly found: true; readonly user: LegacyUser } | { readonly found: false; readonly reason: string };

/**
 * A legacy identity store. Each method resolves `found: false` when the directory answers "no" (wrong
 * password, unknown or disabled user, a step it cannot complete) and rejects only when it cannot answer
 * at all (outage, timeout, misconfiguration). Both end in the same generic refusal.
 */
export interface LegacyDirectory {
  /** Checks the password and returns the user. */
  authenticate(username: string, password: string, signal: AbortSignal): Promise<LegacyOutcome>;
  /** Finds the user without a password, so Cognito can send a reset code. */
  find(username: string, signal: AbortSignal): Promise<LegacyOutcome>;
}

/** Where the legacy Cognito pool is. */
export interface LegacyPool {
  readonly userPoolId: string;
  /** An app client that allows ADMIN_USER_PASSWORD_AUTH and has no client secret. */
  readonly clientId: string;
}

/** Cognito errors that are the directory saying "no", as opposed to being unable to answer. */
const REFUSALS: Readonly<Record<string, string>> = {
  NotAuthorizedException: 'not-authorized',
  UserNotFoundException: 'not-found',
  UserNotConfirmedException: 'not-confirmed',
  PasswordResetRequiredException: 'reset-required',
  InvalidPasswordException: 'not-authorized',
};

function refusal(error: unknown): LegacyOutcome | undefined {
  const name = error instanceof Error ? error.name : '';
  return Object.hasOwn(REFUSALS, name) ? { found: false, reason: REFUSALS[name]! } : undefined;
}

/** A {@link LegacyDirectory} over a legacy Cognito user pool (AdminInitiateAuth, then AdminGetUser). */
export function cognitoLegacyDirectory(client: Pick<CognitoIdentityProviderClient, 'send'>, pool: LegacyPool): LegacyDirectory {
  async function read(username: string, signal: AbortSignal): Promise<LegacyOutcome> {
    try {
      const user = await client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: username }), { abortSignal: signal });
      if (user.Enabled === false) return { found: false, reason: 'disabled' };
      const attributes: Record<string, string> = {};
      for (const { Name, Value } of user.UserAttributes ?? []) if (Name && Value !== undefined) attributes[Name] = Value;
      return { found: true, user: { attributes } };
    } catch (error) {
      const no = refusal(error);
      if (no) return no;
      throw error;
    }
  }

  return {
    async authenticate(username, password, signal) {
      try {
        const result = await client.send(
          new AdminInitiateAuthCommand({
            UserPoolId: pool.userPoolId,
            ClientId: pool.clientId,
            AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: username, PASSWORD: password },
          }),
          { abortSignal: signal },
        );
        // A challenge (new password required, MFA, ...) cannot be completed here, so the password alone does not prove the user.
        if (!result.AuthenticationResult) return { found: false, reason: `challenge:${result.ChallengeName ?? 'unknown'}` };
      } catch (error) {
        const no = refusal(error);
        if (no) return no;
        throw error;
      }
      return read(username, signal);
    },
    find: read,
  };
}
