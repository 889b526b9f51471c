/**
 * Provider credentials from Secrets Manager, read once per cold start and kept for the life of the
 * execution environment (Powertools Parameters' cache), so a burst of codes costs one secret read.
 * When a provider rejects the credentials the cache is bypassed on the next read, so a rotated
 * secret is picked up by the retry instead of failing until the environment is recycled.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';

/** Long enough to mean "once per cold start"; Lambda recycles environments well within it. */
export const SECRET_CACHE_SECONDS = 24 * 3600;

/** Reads, caches and validates one JSON secret. */
export interface CachedSecret<T> {
  get(): Promise<T>;
  /** Forces the next `get` to read Secrets Manager again. */
  refresh(): void;
}

/**
 * A cached secret. `parse` validates the JSON and must not echo values in its errors.
 * Fails (and caches nothing) when the secret is missing, has no value yet, or is not valid JSON.
 */
export function cachedSecret<T>(client: SecretsManagerClient, secretArn: string, parse: (value: unknown) => T): CachedSecret<T> {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  let forceFetch = false;
  return {
    async get() {
      const fetchNow = forceFetch;
      forceFetch = false;
      try {
        const raw: unknown = await provider.get(secretArn, { maxAge: SECRET_CACHE_SECONDS, forceFetch: fetchNow });
        if (typeof raw !== 'string' || raw === '') throw new TypeError('The provider secret has no string value yet');
        let value: unknown;
        try {
          value = JSON.parse(raw);
        } catch {
          // Parsed here, not by Powertools' json transform: JSON.parse's message quotes the input, i.e. the secret.
          throw new TypeError('The provider secret is not valid JSON');
        }
        return parse(value);
      } catch (error) {
        // Whatever failed, the next attempt reads the secret afresh (it may have been fixed meanwhile).
        forceFetch = true;
        throw error;
      }
    },
    refresh() {
      forceFetch = true;
    },
  };
}
