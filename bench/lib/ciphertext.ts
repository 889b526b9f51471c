/**
 * Produces a sender event's `request.code` the way Cognito does (sandbox/cognito/code-encryption.ts),
 * under the stub KMS, so the sender bundles decrypt it on their unchanged production path.
 */
import { codeContext, encryptCode as encryptAsCognito, kmsKeyring } from '../../sandbox/cognito/code-encryption.ts';
import { BENCH_KMS_KEY_ARN, BENCH_REGION } from './env.ts';

/** Base64 Encryption SDK message holding `code`, decryptable through the stub at `stubUrl`. */
export async function encryptCode(code: string, stubUrl: string, userPoolId: string): Promise<string> {
  const { keyring, destroy } = kmsKeyring(BENCH_KMS_KEY_ARN, {
    endpoint: stubUrl,
    region: BENCH_REGION,
    credentials: { accessKeyId: 'AKIABENCHBENCHBENCH0', secretAccessKey: 'bench-secret-access-key-not-real-000000000' },
  });
  try {
    return await encryptAsCognito(keyring, code, codeContext(userPoolId));
  } finally {
    destroy();
  }
}
