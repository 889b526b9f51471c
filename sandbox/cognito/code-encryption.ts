/**
 * How Cognito hands a code to a custom sender: an AWS Encryption SDK message under the pool's KMS key,
 * with the pool id as the encryption context (`userpool-id`), in base64. The sandbox's Cognito encrypts
 * every code this way, and the tests and the benchmark produce sender events with the same function, so
 * the senders decrypt on their unchanged production path.
 */
import { buildClient, CommitmentPolicy, KmsKeyringNode, type AlgorithmSuiteIdentifier, type KeyringNode } from '@aws-crypto/client-node';
import { KMS, type KMSClientConfig } from '@aws-sdk/client-kms';

/** The encryption context Cognito binds to every code. */
export function codeContext(userPoolId: string): Record<string, string> {
  return { 'userpool-id': userPoolId };
}

/**
 * Encrypts `code` under `keyring` with `context` (normally {@link codeContext}). `suiteId` picks the
 * algorithm suite; a non-committing one, which senders must still accept, needs the forbid-encrypt policy.
 */
export async function encryptCode(keyring: KeyringNode, code: string, context: Record<string, string>, suiteId?: AlgorithmSuiteIdentifier): Promise<string> {
  const policy = suiteId === undefined ? CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT : CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT;
  const { encrypt } = buildClient(policy);
  const { result } = await encrypt(keyring, code, { encryptionContext: context, ...(suiteId === undefined ? {} : { suiteId }) });
  return Buffer.from(result).toString('base64');
}

/** A keyring over a KMS endpoint (the sandbox's or the benchmark's stub), with a client that `destroy` closes. */
export function kmsKeyring(keyArn: string, config: KMSClientConfig): { keyring: KeyringNode; destroy(): void } {
  const kms = new KMS(config);
  // The Encryption SDK types its client as SDK v2's; the v3 aggregated client has the same methods.
  return { keyring: new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: (() => kms) as never }), destroy: () => kms.destroy() };
}
