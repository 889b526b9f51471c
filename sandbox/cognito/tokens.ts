/**
 * The tokens the sandbox issues, shaped as Cognito's (cognito-local's generator is replaced):
 *
 * - the ID token carries the user's attributes (`email_verified` and `phone_number_verified` as
 *   booleans), the access token `version: 2`, `scope` and `username`, and both an `origin_jti`
 *   shared by every token of one sign-in, refreshes included, with the first sign-in's `auth_time`;
 * - pre token generation overrides apply to the ID token (V1 and V2) and, for V2, to the access
 *   token too (claims and scopes); claims Cognito reserves are never changed;
 * - RevokeToken ends the sign-in the refresh token belongs to, GlobalSignOut every sign-in of the
 *   user: their access tokens are refused from then on (`Access Token has been revoked`);
 * - an access token presented to the API is checked like Cognito checks it: signature, issuer,
 *   `token_use`, expiry, revocation. cognito-local only decodes it.
 *
 * Tokens are signed with cognito-local's key, which its JWKS endpoint publishes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey, createPublicKey, createSign, createVerify, randomUUID, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import type { User } from 'cognito-local/lib/services/userPoolService.js';
import { CognitoApiError } from './errors.ts';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-require-imports */
const privateJwk = (require('cognito-local/lib/keys/cognitoLocal.private.json') as { jwk: Record<string, string> }).jwk;
const publicJwk = (require('cognito-local/lib/keys/cognitoLocal.public.json') as { jwk: Record<string, string> }).jwk;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Claims no pre token generation response may add, change or remove. */
const RESERVED = new Set(['acr', 'amr', 'aud', 'at_hash', 'auth_time', 'azp', 'client_id', 'cognito:username', 'event_id', 'exp', 'iat', 'identities', 'iss', 'jti', 'nbf', 'nonce', 'origin_jti', 'scope', 'sub', 'token_use', 'username', 'version']);
/** Attributes that never go into an ID token. */
const NOT_CLAIMS = new Set(['sub', 'cognito:user_status']);
const BOOLEAN_CLAIMS = new Set(['email_verified', 'phone_number_verified']);
const UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };

/** One token's part of a pre token generation response. */
export interface ClaimOverrides {
  readonly claimsToAddOrOverride?: Record<string, unknown>;
  readonly claimsToSuppress?: readonly string[];
  readonly scopesToAdd?: readonly string[];
  readonly scopesToSuppress?: readonly string[];
}

/** What the backend's PreTokenGeneration seam returns: the overrides for each token. */
export interface TokenOverrides {
  readonly idToken?: ClaimOverrides;
  readonly accessToken?: ClaimOverrides;
}

/** The overrides of a pre token generation response: V1's `claimsOverrideDetails` (ID token only), or V2's per token. */
export function overridesOf(response: Record<string, unknown>, v2: boolean): TokenOverrides {
  if (!v2) return { idToken: (response.claimsOverrideDetails ?? undefined) as ClaimOverrides | undefined };
  const details = (response.claimsAndScopeOverrideDetails ?? {}) as { idTokenGeneration?: ClaimOverrides | null; accessTokenGeneration?: ClaimOverrides | null };
  return { idToken: details.idTokenGeneration ?? undefined, accessToken: details.accessTokenGeneration ?? undefined };
}

/** The request being served, so that a refresh finds the sign-in its refresh token belongs to. */
export const currentRequest = new AsyncLocalStorage<Record<string, unknown>>();

interface Origin {
  readonly username: string;
  readonly authTime: number;
}

type Claims = Record<string, unknown>;

function applyOverrides(claims: Claims, overrides: ClaimOverrides | undefined): Claims {
  if (!overrides) return claims;
  const out: Claims = { ...claims };
  for (const [name, value] of Object.entries(overrides.claimsToAddOrOverride ?? {})) if (!RESERVED.has(name)) out[name] = value;
  for (const name of overrides.claimsToSuppress ?? []) if (!RESERVED.has(name)) delete out[name];
  if (typeof out.scope === 'string' && (overrides.scopesToAdd?.length || overrides.scopesToSuppress?.length)) {
    const scopes = new Set([...out.scope.split(' '), ...(overrides.scopesToAdd ?? [])]);
    for (const s of overrides.scopesToSuppress ?? []) scopes.delete(s);
    out.scope = [...scopes].join(' ');
  }
  return out;
}

function validitySeconds(value: number | undefined, unit: string | undefined, fallbackSeconds: number): number {
  return value === undefined ? fallbackSeconds : value * (UNIT_SECONDS[unit ?? ''] ?? 3600);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Cognito's token issuing and checking for one user pool. */
export class PoolTokens {
  private readonly privateKey: KeyObject = createPrivateKey({ key: privateJwk, format: 'jwk' });
  private readonly publicKey: KeyObject = createPublicKey({ key: publicJwk, format: 'jwk' });
  /** Each sign-in, by origin_jti. */
  private readonly origins = new Map<string, Origin>();
  /** The sign-in each refresh token belongs to. */
  private readonly refreshOrigin = new Map<string, string>();
  private readonly revoked = new Set<string>();

  /**
   * @param issuer the tokens' `iss`: the public endpoint and the pool id.
   * @param preTokenGeneration runs the trigger when the pool has one, returning its overrides.
   */
  constructor(
    private readonly issuer: string,
    private readonly preTokenGeneration: (ctx: Context, user: User, client: AppClient, clientMetadata: Record<string, string> | undefined, source: string, groups: readonly string[]) => Promise<TokenOverrides | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  /** cognito-local's TokenGenerator contract. */
  async generate(ctx: Context, user: User, groups: readonly string[], client: AppClient, clientMetadata: Record<string, string> | undefined, source: string): Promise<{ AccessToken: string; IdToken: string; RefreshToken: string }> {
    const iat = Math.floor(this.now() / 1000);
    const presented = source === 'RefreshTokens' ? ((currentRequest.getStore()?.AuthParameters ?? {}) as Record<string, unknown>).REFRESH_TOKEN : undefined;
    const known = typeof presented === 'string' ? this.refreshOrigin.get(presented) : undefined;
    const originJti = known ?? randomUUID();
    const origin = (known && this.origins.get(known)) || { username: user.Username, authTime: iat };
    this.origins.set(originJti, origin);
    const attributes = Object.fromEntries((user.Attributes ?? []).filter((a) => a.Value !== undefined).map((a) => [a.Name, a.Value!]));
    const sub = attributes.sub;
    const eventId = randomUUID();
    const common = { sub, iss: this.issuer, origin_jti: originJti, event_id: eventId, auth_time: origin.authTime, iat, ...(groups.length ? { 'cognito:groups': [...groups] } : {}) };
    const userClaims = Object.fromEntries(Object.entries(attributes).filter(([name]) => !NOT_CLAIMS.has(name)).map(([name, value]) => [name, BOOLEAN_CLAIMS.has(name) ? value === 'true' : value]));
    const overrides = await this.preTokenGeneration(ctx, user, client, clientMetadata, source, groups);
    const units = client.TokenValidityUnits ?? {};
    const idClaims = applyOverrides({ ...userClaims, ...common, 'cognito:username': user.Username, aud: client.ClientId, token_use: 'id' }, overrides?.idToken);
    const accessClaims = applyOverrides({ ...common, version: 2, client_id: client.ClientId, token_use: 'access', scope: 'aws.cognito.signin.user.admin', username: user.Username }, overrides?.accessToken);
    const refreshToken = this.sign({ 'cognito:username': user.Username, iss: this.issuer, iat, jti: randomUUID(), exp: iat + validitySeconds(client.RefreshTokenValidity, units.RefreshToken ?? 'days', 30 * 86_400) });
    this.refreshOrigin.set(refreshToken, originJti);
    return {
      AccessToken: this.sign({ ...accessClaims, exp: iat + validitySeconds(client.AccessTokenValidity, units.AccessToken ?? 'hours', 3600), jti: randomUUID() }),
      IdToken: this.sign({ ...idClaims, exp: iat + validitySeconds(client.IdTokenValidity, units.IdToken ?? 'hours', 3600), jti: randomUUID() }),
      RefreshToken: refreshToken,
    };
  }

  /** RevokeToken: the refresh token's sign-in ends, its access tokens with it. */
  revokeRefreshToken(token: string): void {
    const origin = this.refreshOrigin.get(token);
    if (origin) this.revoked.add(origin);
  }

  /** GlobalSignOut: every sign-in of the user ends. */
  signOutEverywhere(username: string): void {
    for (const [id, origin] of this.origins) if (origin.username === username) this.revoked.add(id);
  }

  /** The claims of an access token Cognito would accept; throws Cognito's NotAuthorizedException otherwise. */
  checkAccessToken(token: string): Claims {
    const [header, payload, signature] = token.split('.');
    const invalid = () => new CognitoApiError('NotAuthorizedException', 'Invalid Access Token');
    if (!header || !payload || !signature) throw invalid();
    const verify = createVerify('RSA-SHA256').update(`${header}.${payload}`);
    if (!verify.verify(this.publicKey, Buffer.from(signature, 'base64url'))) throw invalid();
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      throw invalid();
    }
    if (claims.iss !== this.issuer || claims.token_use !== 'access') throw invalid();
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) throw new CognitoApiError('NotAuthorizedException', 'Access Token has expired');
    if (typeof claims.origin_jti === 'string' && this.revoked.has(claims.origin_jti)) throw new CognitoApiError('NotAuthorizedException', 'Access Token has been revoked');
    return claims;
  }

  private sign(claims: Claims): string {
    const unsigned = `${b64url({ alg: 'RS256', typ: 'JWT', kid: publicJwk.kid })}.${b64url(claims)}`;
    return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(this.privateKey).toString('base64url')}`;
  }
}
