/**
 * The production wiring both senders share: AWS clients with the background budget, the KMS decryptor,
 * and the cached provider secret (the idempotency store is ./idempotency.ts). Called once at module scope by each handler.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BACKGROUND_BUDGET, clientConfig } from './aws.ts';
import { codeDecryptor, kmsKeyring, type DecryptCode } from './code-decryption.ts';
import { ProviderError } from './providers/http.ts';
import { cachedSecret, type CachedSecret } from './providers/secrets.ts';

/** Decrypts codes with the pool's KMS key. */
export function kmsDecryptor(keyArn: string): DecryptCode {
  const kms = kmsKeyring(keyArn, new KMSClient(clientConfig(BACKGROUND_BUDGET)));
  return codeDecryptor(kms.keyring, kms.takeServiceFailure);
}

/** A provider's credentials from Secrets Manager, cached for the life of the environment. */
export function providerSecret<T>(secretArn: string, parse: (value: unknown) => T): CachedSecret<T> {
  return cachedSecret(new SecretsManagerClient(clientConfig(BACKGROUND_BUDGET)), secretArn, parse);
}

/** Wraps a provider send so that rejected credentials make the next attempt re-read the secret. */
export function refreshingOnRejection<A>(secret: CachedSecret<unknown>, send: (message: A) => Promise<void>): (message: A) => Promise<void> {
  return async (message) => {
    try {
      await send(message);
    } catch (error) {
      if (error instanceof ProviderError && error.credentialsRejected) secret.refresh();
      throw error;
    }
  };
}
