/**
 * Decrypts the one-time codes (and temporary passwords) Cognito hands to the custom email and SMS senders.
 *
 * Cognito encrypts each code with the AWS Encryption SDK under the pool's KMS key and binds the pool id
 * into the encryption context (`userpool-id`). We decrypt with the same SDK and a KMS keyring restricted
 * to that one key, then refuse any message whose context names another pool: a ciphertext lifted from a
 * different pool that shares the key must not make us send its code.
 *
 * Only the narrow packages are imported (`decrypt-node`, `kms-keyring`), never the `client-node` index,
 * which also pulls in the encrypt path and the caching materials manager and loads much slower. The
 * keyring is `kms-keyring`'s generic KMS keyring on the Node base class, which is all `kms-keyring-node`
 * adds too, except that the latter also builds a default client from the SDK's aggregated `KMS` class
 * (every KMS command, about 30 KiB more to load) that we never use: we pass our own client.
 */
import { DecryptCommand, type DecryptCommandInput, type KMSClient } from '@aws-sdk/client-kms';
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { KmsKeyringClass, type AwsEsdkKMSInterface } from '@aws-crypto/kms-keyring';
import { CommitmentPolicy, KeyringNode, type Newable, type NodeAlgorithmSuite } from '@aws-crypto/material-management-node';

/** The encryption-context key in which Cognito records the pool a code belongs to. */
export const POOL_CONTEXT_KEY = 'userpool-id';

/**
 * Cognito encrypts with a single KMS key, so a genuine message carries exactly one encrypted data key.
 * Refusing more bounds the KMS calls a forged message could make us attempt.
 */
export const MAX_ENCRYPTED_DATA_KEYS = 1;

/**
 * Cognito's messages are not key-committing, so decryption must still allow non-committed suites; we never
 * encrypt, so the encrypt half of the policy is moot. This is the policy Cognito's own examples use.
 */
const { decrypt } = buildDecrypt({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: MAX_ENCRYPTED_DATA_KEYS,
});

/** Why a code could not be decrypted. Never carries the code or the library's message. */
export type DecryptionFailure = 'malformed' | 'wrong-pool' | 'undecryptable';

/** Thrown when a code cannot be used; the sender must not send and must throw. */
export class CodeDecryptionError extends Error {
  override readonly name = 'CodeDecryptionError';
  readonly reason: DecryptionFailure;

  constructor(reason: DecryptionFailure, options?: { cause?: unknown }) {
    super(`The code could not be decrypted (${reason})`, options);
    this.reason = reason;
  }
}

/** Decrypts one base64 ciphertext from a sender event, checking it belongs to `userPoolId`; resolves to the plain code. */
export type DecryptCode = (ciphertextBase64: string, userPoolId: string) => Promise<string>;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Far above any real code message (a few hundred bytes); stops a huge field from reaching the parser. */
const MAX_CIPHERTEXT_CHARS = 16_384;

/** The Encryption SDK's KMS keyring for Node, over a client we supply. */
export class DecryptKmsKeyring extends KmsKeyringClass<NodeAlgorithmSuite, AwsEsdkKMSInterface>(KeyringNode as Newable<KeyringNode>) {}

/** A KMS keyring together with the last KMS failure it hid from the Encryption SDK. */
export interface KmsKeyringHandle {
  readonly keyring: KeyringNode;
  /**
   * The keyring turns every KMS error into a generic "unable to decrypt data key"; this returns (and
   * forgets) the KMS error behind the last failure, unless KMS refused the ciphertext itself.
   */
  takeServiceFailure(): unknown;
}

/** KMS errors that mean "this ciphertext is not for this key", as opposed to KMS being unavailable or misconfigured. */
const CIPHERTEXT_REFUSALS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/**
 * A KMS keyring that may only use `keyArn`, calling KMS through our own client so that its timeouts,
 * retries, keep-alive and `AWS_ENDPOINT_URL_KMS` redirection apply. Only Decrypt is ever needed.
 */
export function kmsKeyring(keyArn: string, kms: Pick<KMSClient, 'send'>): KmsKeyringHandle {
  let lastFailure: unknown;
  const refuse = () => Promise.reject(new Error('The sender keyring only decrypts'));
  const client = {
    decrypt: async (input: DecryptCommandInput) => {
      lastFailure = undefined;
      try {
        return await kms.send(new DecryptCommand(input));
      } catch (error) {
        if (!(error instanceof Error && CIPHERTEXT_REFUSALS.has(error.name))) lastFailure = error;
        throw error;
      }
    },
    encrypt: refuse,
    generateDataKey: refuse,
  };
  return {
    keyring: new DecryptKmsKeyring({ keyIds: [keyArn], clientProvider: () => client }),
    takeServiceFailure() {
      const failure = lastFailure;
      lastFailure = undefined;
      return failure;
    },
  };
}

/**
 * A {@link DecryptCode} over any keyring: KMS in production, a raw AES keyring in tests that encrypt their
 * own codes. Failures of KMS itself (throttling, timeouts, access) are rethrown as KMS raised them, so they
 * are retried and visible by name; anything wrong with the message becomes a {@link CodeDecryptionError}.
 */
export function codeDecryptor(keyring: KeyringNode, takeServiceFailure: () => unknown = () => undefined): DecryptCode {
  return async (ciphertextBase64, userPoolId) => {
    if (typeof ciphertextBase64 !== 'string' || ciphertextBase64.length > MAX_CIPHERTEXT_CHARS || !BASE64.test(ciphertextBase64)) {
      throw new CodeDecryptionError('malformed');
    }
    takeServiceFailure();
    let result: Awaited<ReturnType<typeof decrypt>>;
    try {
      result = await decrypt(keyring, Buffer.from(ciphertextBase64, 'base64'));
    } catch (error) {
      const serviceFailure = takeServiceFailure();
      if (serviceFailure !== undefined) throw serviceFailure;
      throw new CodeDecryptionError('undecryptable', { cause: error });
    }
    // Checked after decryption because the context is authenticated only once the message verifies.
    if (result.messageHeader.encryptionContext[POOL_CONTEXT_KEY] !== userPoolId) {
      throw new CodeDecryptionError('wrong-pool');
    }
    return result.plaintext.toString('utf8');
  };
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Cognito HTML-escapes a temporary password before encrypting it (`&` arrives as `&amp;`). Decodes the
 * named entities Cognito uses and numeric references, in one pass so `&amp;lt;` becomes `&lt;`, not `<`.
 */
export function unescapeHtml(value: string): string {
  return value.replace(/&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]+));/g, (match, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return ENTITIES[name] ?? match;
    const codePoint = dec !== undefined ? Number(dec) : Number.parseInt(hex!, 16);
    return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : match;
  });
}
