/**
 * A minimal local KMS: GenerateDataKey, Encrypt, Decrypt and DescribeKey over the AWS JSON protocol.
 *
 * That is all the AWS Encryption SDK's KMS keyring calls, so the sender functions decrypt Cognito's
 * codes through their production code path with only `AWS_ENDPOINT_URL_KMS` changed. Each key gets a
 * random AES-256 key for the life of the sandbox; ciphertexts are AES-GCM with the encryption context
 * as additional data, so a wrong context fails exactly as it does in KMS (InvalidCiphertextException).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AwsError, awsJsonHandler, bodyServer, listen, type Listening } from './lib/http.ts';

export interface LocalKmsKey {
  readonly arn: string;
  readonly id: string;
  readonly aliases?: readonly string[];
}

const MAGIC = 0x53; // marks a sandbox ciphertext

function canonicalContext(context: unknown): Buffer {
  const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

export class LocalKms {
  private readonly keys = new Map<string, { arn: string; secret: Buffer }>();
  private readonly lookup = new Map<string, string>();
  private listening?: Listening;
  /** Every call, by operation, for tests. */
  readonly calls: Array<{ operation: string; keyId?: string; at: number }> = [];

  constructor(keys: readonly LocalKmsKey[], private readonly region: string, private readonly accountId: string) {
    for (const key of keys) this.addKey(key);
  }

  addKey(key: LocalKmsKey): void {
    this.keys.set(key.arn, { arn: key.arn, secret: randomBytes(32) });
    for (const name of [key.arn, key.id, ...(key.aliases ?? []), ...(key.aliases ?? []).map((a) => `arn:aws:kms:${this.region}:${this.accountId}:${a}`)]) {
      this.lookup.set(name, key.arn);
    }
  }

  get url(): string {
    return this.listening!.url;
  }

  private key(keyId: unknown) {
    const arn = typeof keyId === 'string' ? this.lookup.get(keyId) : undefined;
    const key = arn ? this.keys.get(arn) : undefined;
    if (!key) throw new AwsError('NotFoundException', `Key '${String(keyId)}' does not exist`);
    return key;
  }

  private seal(key: { arn: string; secret: Buffer }, plaintext: Buffer, context: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arn = Buffer.from(key.arn, 'utf8');
    return Buffer.concat([Buffer.from([MAGIC, arn.length]), arn, iv, cipher.getAuthTag(), body]);
  }

  private open(blob: Buffer, context: unknown, expectedKey: unknown): { arn: string; plaintext: Buffer } {
    const invalid = () => new AwsError('InvalidCiphertextException', 'The ciphertext is invalid or its encryption context does not match');
    if (blob.length < 2 || blob[0] !== MAGIC) throw invalid();
    const arnLength = blob[1]!;
    const arn = blob.subarray(2, 2 + arnLength).toString('utf8');
    const key = this.keys.get(arn);
    if (!key) throw invalid();
    if (expectedKey !== undefined && this.lookup.get(String(expectedKey)) !== arn) {
      throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext');
    }
    const at = 2 + arnLength;
    const decipher = createDecipheriv('aes-256-gcm', key.secret, blob.subarray(at, at + 12));
    decipher.setAuthTag(blob.subarray(at + 12, at + 28));
    decipher.setAAD(canonicalContext(context));
    try {
      return { arn, plaintext: Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]) };
    } catch {
      throw invalid();
    }
  }

  async start(port = 0): Promise<void> {
    const b64 = (v: unknown) => Buffer.from(String(v ?? ''), 'base64');
    this.listening = await listen(
      bodyServer(
        awsJsonHandler('1.1', {
          GenerateDataKey: (input) => {
            this.calls.push({ operation: 'GenerateDataKey', keyId: String(input.KeyId), at: Date.now() });
            const key = this.key(input.KeyId);
            const bytes = typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : input.KeySpec === 'AES_128' ? 16 : 32;
            const plaintext = randomBytes(bytes);
            return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: this.seal(key, plaintext, input.EncryptionContext).toString('base64') };
          },
          Encrypt: (input) => {
            this.calls.push({ operation: 'Encrypt', keyId: String(input.KeyId), at: Date.now() });
            const key = this.key(input.KeyId);
            return { KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', CiphertextBlob: this.seal(key, b64(input.Plaintext), input.EncryptionContext).toString('base64') };
          },
          Decrypt: (input) => {
            this.calls.push({ operation: 'Decrypt', ...(input.KeyId ? { keyId: String(input.KeyId) } : {}), at: Date.now() });
            const { arn, plaintext } = this.open(b64(input.CiphertextBlob), input.EncryptionContext, input.KeyId);
            return { KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', Plaintext: plaintext.toString('base64') };
          },
          DescribeKey: (input) => {
            const key = this.key(input.KeyId);
            return { KeyMetadata: { Arn: key.arn, KeyId: key.arn.split('/').pop(), Enabled: true, KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' } };
          },
        }),
      ),
      port,
    );
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}
