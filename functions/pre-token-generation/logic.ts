/**
 * Pre token generation: keeps the email address out of ID tokens.
 *
 * ID tokens travel to browsers, logs and third parties; the email is personal data that most clients do
 * not need, and the ones that do can call the userInfo endpoint with the access token.
 */
import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';

/** Claims removed from every ID token. */
export const SUPPRESSED_ID_TOKEN_CLAIMS: readonly string[] = ['email', 'email_verified'];

export type TokenEvent = PreTokenGenerationTriggerEvent | PreTokenGenerationV2TriggerEvent;

/** Which response shape the event expects: V1 (`claimsOverrideDetails`) or V2_0 and later (`claimsAndScopeOverrideDetails`). */
export function responseShape(event: { version?: unknown; response?: unknown }): 'v1' | 'v2' {
  const version = Number.parseInt(String(event.version ?? ''), 10);
  if (Number.isInteger(version)) return version >= 2 ? 'v2' : 'v1';
  // No usable version: trust the response object Cognito prepared.
  const response = event.response;
  return typeof response === 'object' && response !== null && 'claimsAndScopeOverrideDetails' in response ? 'v2' : 'v1';
}

function merged(existing: unknown): string[] {
  const list = Array.isArray(existing) ? existing.filter((c): c is string => typeof c === 'string') : [];
  return [...new Set([...list, ...SUPPRESSED_ID_TOKEN_CLAIMS])];
}

function withoutSuppressed(claims: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!claims || typeof claims !== 'object') return undefined;
  return Object.fromEntries(Object.entries(claims).filter(([key]) => !SUPPRESSED_ID_TOKEN_CLAIMS.includes(key)));
}

/**
 * Adds `email` and `email_verified` to the ID token's suppressed claims on every source (sign-in,
 * hosted UI, new password, device and refresh), keeping whatever else the response already held and
 * dropping any attempt to add those claims back. Mutates and returns the event, as Cognito expects.
 */
export function suppressEmailClaims<E extends TokenEvent>(event: E): E {
  // Machine-to-machine tokens (V3_0) have no user and no ID token, so there is nothing to remove.
  if (String(event.triggerSource) === 'TokenGeneration_ClientCredentials') return event;
  if (responseShape(event) === 'v1') {
    const v1 = event as PreTokenGenerationTriggerEvent;
    const current = v1.response?.claimsOverrideDetails ?? {};
    const add = withoutSuppressed(current.claimsToAddOrOverride);
    v1.response = {
      ...v1.response,
      claimsOverrideDetails: { ...current, ...(add ? { claimsToAddOrOverride: add } : {}), claimsToSuppress: merged(current.claimsToSuppress) },
    };
    return event;
  }
  const v2 = event as PreTokenGenerationV2TriggerEvent;
  const details = v2.response?.claimsAndScopeOverrideDetails ?? {};
  const id = details.idTokenGeneration ?? {};
  const add = withoutSuppressed(id.claimsToAddOrOverride);
  v2.response = {
    ...v2.response,
    claimsAndScopeOverrideDetails: {
      ...details,
      idTokenGeneration: { ...id, ...(add ? { claimsToAddOrOverride: add } : {}), claimsToSuppress: merged(id.claimsToSuppress) },
    },
  };
  return event;
}
