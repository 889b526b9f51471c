/**
 * Produces a sender event's `request.code` the way Cognito does: the code encrypted with the AWS
 * Encryption SDK under a KMS key, here the stub KMS, so the sender bundles decrypt it on their
 * unchanged production path.
 */
import { CommitmentPolicy, KmsKeyringNode, buildClient } from '@aws-crypto/client-node';
import { KMS } from '@aws-sdk/client-kms';
import { BENCH_KMS_KEY_ARN, BENCH_REGION } from './env.ts';

/**
 * Base64 Encryption SDK message holding `code`, decryptable through the stub at `stubUrl`, with the
 * encryption context Cognito binds to every code (`userpool-id`).
 */
export async function encryptCode(code: string, stubUrl: string, userPoolId: string): Promise<string> {
  const kms = new KMS({
    endpoint: stubUrl,
    region: BENCH_REGION,
    credentials: { accessKeyId: 'AKIABENCHBENCHBENCH0', secretAccessKey: 'bench-secret-access-key-not-real-000000000' },
  });
  const keyring = new KmsKeyringNode({ generatorKeyId: BENCH_KMS_KEY_ARN, clientProvider: () => kms });
  const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
  const { result } = await encrypt(keyring, code, { encryptionContext: { 'userpool-id': userPoolId } });
  kms.destroy();
  return Buffer.from(result).toString('base64');
}
