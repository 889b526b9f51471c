/**
 * The production wiring both senders share: AWS clients with the background budget, the KMS decryptor,
 * the idempotency store and the cached provider secret. Called once at module scope by each handler.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { BACKGROUND_BUDGET, clientConfig } from './aws.ts';
import { codeDecryptor, kmsKeyring, type DecryptCode } from './code-decryption.ts';
import { ProviderError } from './providers/http.ts';
import { cachedSecret, type CachedSecret } from './providers/secrets.ts';

/** Decrypts codes with the pool's KMS key. */
export function kmsDecryptor(keyArn: string): DecryptCode {
  const kms = kmsKeyring(keyArn, new KMSClient(clientConfig(BACKGROUND_BUDGET)));
  return codeDecryptor(kms.keyring, kms.takeServiceFailure);
}

/** Powertools Idempotency over the project table: `pk` = `idempotency#<function>`, `sk` = the hashed key, TTL `expiresAt`. */
export function idempotencyStore(tableName: string): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    expiryAttr: 'expiresAt',
    awsSdkV3Client: new DynamoDBClient(clientConfig(BACKGROUND_BUDGET)),
  });
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
