/**
 * Test doubles for the custom senders: real AWS Encryption SDK ciphertexts (raw AES keyring, or a KMS
 * keyring over a fake KMS), an in-memory Powertools persistence layer with DynamoDB's conditional-write
 * semantics, and log capture.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  type AlgorithmSuiteIdentifier,
  type KeyringNode,
} from '@aws-crypto/client-node';
import type { DecryptCommandInput, DecryptCommandOutput } from '@aws-sdk/client-kms';
import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import sinon from 'sinon';
import { logger } from '../../functions/common/logger.ts';

export const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1b9a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** A raw AES keyring standing in for KMS; a fresh key unless one is given. */
export function rawKeyring(key: Buffer = randomBytes(32), name = 'test-key'): KeyringNode {
  return new RawAesKeyringNode({
    keyName: name,
    keyNamespace: 'cognito-sender-tests',
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/**
 * Encrypts `code` the way Cognito does: Encryption SDK message, base64, pool id in the context.
 * `suiteId` picks the algorithm suite; a non-committing one needs the forbid-encrypt policy to produce.
 */
export async function encryptCode(
  keyring: KeyringNode,
  code: string,
  context: Record<string, string>,
  suiteId?: AlgorithmSuiteIdentifier,
): Promise<string> {
  const policy = suiteId === undefined ? CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT : CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT;
  const { encrypt } = buildClient(policy);
  const { result } = await encrypt(keyring, code, { encryptionContext: context, ...(suiteId === undefined ? {} : { suiteId }) });
  return Buffer.from(result).toString('base64');
}

/**
 * A fake KMS holding one AES key for `KEY_ARN`. It wraps data keys with AES-GCM, authenticating the
 * encryption context as KMS does, so a Decrypt with the wrong key id or context fails like the real one.
 */
export class FakeKms {
  readonly #master = randomBytes(32);
  readonly decryptCalls: DecryptCommandInput[] = [];

  #wrap(plaintext: Buffer, context: Record<string, string> = {}): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#master, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context).sort())));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  #unwrap(blob: Uint8Array, context: Record<string, string> = {}): Buffer {
    const buf = Buffer.from(blob);
    const decipher = createDecipheriv('aes-256-gcm', this.#master, buf.subarray(0, 12));
    decipher.setAuthTag(buf.subarray(12, 28));
    decipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context).sort())));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
  }

  /** The KMS API surface the Encryption SDK's KMS keyring calls, for encrypting test codes. */
  readonly client = {
    generateDataKey: async (input: { KeyId?: string; NumberOfBytes?: number; EncryptionContext?: Record<string, string> }) => {
      const plaintext = randomBytes(input.NumberOfBytes ?? 32);
      return { KeyId: KEY_ARN, Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(this.#wrap(plaintext, input.EncryptionContext)) };
    },
    encrypt: async (input: { KeyId?: string; Plaintext?: Uint8Array; EncryptionContext?: Record<string, string> }) => ({
      KeyId: KEY_ARN,
      CiphertextBlob: new Uint8Array(this.#wrap(Buffer.from(input.Plaintext!), input.EncryptionContext)),
    }),
    decrypt: async (input: DecryptCommandInput) => this.decrypt(input),
  };

  /** Answers a DecryptCommand as KMS would (also used behind aws-sdk-client-mock). */
  decrypt(input: DecryptCommandInput): DecryptCommandOutput {
    this.decryptCalls.push(input);
    if (input.KeyId !== KEY_ARN) throw Object.assign(new Error('Incorrect key'), { name: 'IncorrectKeyException', $metadata: {} });
    try {
      const plaintext = this.#unwrap(input.CiphertextBlob!, input.EncryptionContext);
      return { KeyId: KEY_ARN, Plaintext: new Uint8Array(plaintext), $metadata: {} };
    } catch {
      throw Object.assign(new Error('Invalid ciphertext'), { name: 'InvalidCiphertextException', $metadata: {} });
    }
  }

  /** A KMS keyring over this fake, for encrypting as Cognito does. */
  keyring(): KeyringNode {
    return new KmsKeyringNode({ generatorKeyId: KEY_ARN, clientProvider: () => this.client });
  }
}

/**
 * Powertools' persistence contract in memory, with the conditions DynamoDBPersistenceLayer puts on its
 * conditional write: a put succeeds only when no record exists, it expired, or it is an in-progress
 * record whose in-progress deadline passed.
 */
export class MemoryPersistence extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();
  failNextPut: Error | undefined;

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    if (this.failNextPut) {
      const error = this.failNextPut;
      this.failNextPut = undefined;
      throw error;
    }
    const existing = this.records.get(record.idempotencyKey);
    const now = Date.now();
    const inProgressExpired =
      existing?.getStatus() === 'INPROGRESS' && existing.inProgressExpiryTimestamp !== undefined && existing.inProgressExpiryTimestamp < now;
    if (existing && !existing.isExpired() && !inProgressExpired) {
      throw new IdempotencyItemAlreadyExistsError(`Failed to put record for already existing idempotency key: ${record.idempotencyKey}`, existing);
    }
    this.records.set(record.idempotencyKey, record);
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

/** Runs `run` with every log line captured (at DEBUG), returning the output and the outcome. */
export async function captureLogs<T>(run: () => Promise<T>): Promise<{ logs: string; result?: T; error?: unknown }> {
  let logs = '';
  const level = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  const collect = (chunk: string | Uint8Array) => {
    logs += chunk.toString();
    return true;
  };
  const out = sinon.stub(process.stdout, 'write').callsFake(collect);
  const err = sinon.stub(process.stderr, 'write').callsFake(collect);
  try {
    const result = await run();
    return { logs, result };
  } catch (error) {
    return { logs, error };
  } finally {
    out.restore();
    err.restore();
    logger.setLogLevel(level);
  }
}
