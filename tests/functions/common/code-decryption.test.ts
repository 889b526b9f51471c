/**
 * The senders' code decryption, on real AWS Encryption SDK messages: round trips through a raw AES
 * keyring and through our KMS keyring over a fake KMS, refusal of another pool's ciphertext, and the
 * HTML unescaping of temporary passwords.
 */
import { randomBytes } from 'node:crypto';
import { AlgorithmSuiteIdentifier, MultiKeyringNode } from '@aws-crypto/client-node';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import fc from 'fast-check';
import { CodeDecryptionError, codeDecryptor, kmsKeyring, unescapeHtml } from '../../../functions/common/code-decryption.ts';
import { escapeHtml } from '../../../functions/common/templates.ts';
import { POOL_ID } from '../../fixtures/events.ts';
import { encryptCode, FakeKms, KEY_ARN, rawKeyring } from '../../fixtures/senders.ts';
import { rejection } from '../../fixtures/promises.ts';

const CONTEXT = { 'userpool-id': POOL_ID };

/** The production pairing: our KMS keyring and its service-failure report. */
function kmsDecrypt(keyArn: string) {
  const handle = kmsKeyring(keyArn, new KMSClient({ region: 'eu-west-1' }));
  return codeDecryptor(handle.keyring, handle.takeServiceFailure);
}


describe('code decryption', () => {
  describe('with a raw AES keyring (stand-in for KMS)', () => {
    const key = randomBytes(32);
    const decrypt = codeDecryptor(rawKeyring(key));

    it('decrypts a code encrypted for this pool', async () => {
      const ciphertext = await encryptCode(rawKeyring(key), '123456', CONTEXT);
      expect(await decrypt(ciphertext, POOL_ID)).to.equal('123456');
    });

    it('decrypts the non-committing, signed suite (REQUIRE_ENCRYPT_ALLOW_DECRYPT still accepts it)', async () => {
      const ciphertext = await encryptCode(rawKeyring(key), '654321', CONTEXT, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384);
      expect(await decrypt(ciphertext, POOL_ID)).to.equal('654321');
    });

    it('refuses a ciphertext whose encryption context names another pool', async () => {
      const ciphertext = await encryptCode(rawKeyring(key), '123456', { 'userpool-id': 'eu-west-1_OtherPool' });
      const error = await rejection(decrypt(ciphertext, POOL_ID));
      expect(error).to.be.instanceOf(CodeDecryptionError).and.to.have.property('reason', 'wrong-pool');
    });

    it('refuses a ciphertext with no pool in its context', async () => {
      const ciphertext = await encryptCode(rawKeyring(key), '123456', { purpose: 'test' });
      expect(await rejection(decrypt(ciphertext, POOL_ID))).to.have.property('reason', 'wrong-pool');
    });

    it('refuses a ciphertext made under another key', async () => {
      const ciphertext = await encryptCode(rawKeyring(randomBytes(32)), '123456', CONTEXT);
      expect(await rejection(decrypt(ciphertext, POOL_ID))).to.have.property('reason', 'undecryptable');
    });

    it('refuses a tampered ciphertext', async () => {
      const bytes = Buffer.from(await encryptCode(rawKeyring(key), '123456', CONTEXT), 'base64');
      bytes[bytes.length - 40]! ^= 0x01;
      expect(await rejection(decrypt(bytes.toString('base64'), POOL_ID))).to.have.property('reason', 'undecryptable');
    });

    it('refuses a message with more than one encrypted data key', async () => {
      const twoKeys = new MultiKeyringNode({ generator: rawKeyring(key), children: [rawKeyring(randomBytes(32), 'second')] });
      const ciphertext = await encryptCode(twoKeys, '123456', CONTEXT);
      expect(await rejection(decrypt(ciphertext, POOL_ID))).to.have.property('reason', 'undecryptable');
    });

    for (const [label, value] of [
      ['empty', ''],
      ['not base64', 'not base64!'],
      ['oversized', 'A'.repeat(20_000)],
    ] as const) {
      it(`refuses a ${label} code field without calling the keyring`, async () => {
        expect(await rejection(decrypt(value, POOL_ID))).to.be.instanceOf(CodeDecryptionError).and.to.have.property('reason', 'malformed');
      });
    }

    it('keeps the code out of the error message', async () => {
      const ciphertext = await encryptCode(rawKeyring(key), '987123', { 'userpool-id': 'eu-west-1_OtherPool' });
      const error = (await rejection(decrypt(ciphertext, POOL_ID))) as Error;
      expect(error.message).not.to.include('987123');
      expect(error.message).not.to.include(ciphertext.slice(0, 20));
    });
  });

  describe('with the KMS keyring over a KMS client', () => {
    let fake: FakeKms;
    // Created per suite and restored after it: client mocks patch the class prototype for the whole process.
    let kms: AwsClientStub<KMSClient>;
    before(() => {
      kms = mockClient(KMSClient);
    });
    after(() => kms.restore());

    beforeEach(() => {
      fake = new FakeKms();
      kms.reset();
      kms.on(DecryptCommand).callsFake((input) => fake.decrypt(input));
    });

    it('decrypts through a single KMS Decrypt naming the configured key and the pool context', async () => {
      const ciphertext = await encryptCode(fake.keyring(), 'Tmp&amp;Pass1', CONTEXT);
      const decrypt = kmsDecrypt(KEY_ARN);
      expect(await decrypt(ciphertext, POOL_ID)).to.equal('Tmp&amp;Pass1');
      expect(kms.commandCalls(DecryptCommand)).to.have.length(1);
      const input = kms.commandCalls(DecryptCommand)[0]!.args[0].input;
      expect(input.KeyId).to.equal(KEY_ARN);
      expect(input.EncryptionContext).to.deep.include(CONTEXT);
    });

    it('never asks KMS about a data key wrapped under another key', async () => {
      const ciphertext = await encryptCode(fake.keyring(), '123456', CONTEXT);
      const decrypt = kmsDecrypt(KEY_ARN.replace(/key\/.*/, 'key/other'));
      expect(await rejection(decrypt(ciphertext, POOL_ID))).to.have.property('reason', 'undecryptable');
      expect(kms.commandCalls(DecryptCommand)).to.have.length(0);
    });

    it('lets a KMS outage through unchanged, so the invocation is retried', async () => {
      const ciphertext = await encryptCode(fake.keyring(), '123456', CONTEXT);
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      kms.on(DecryptCommand).rejects(throttled);
      const decrypt = kmsDecrypt(KEY_ARN);
      const error = await rejection(decrypt(ciphertext, POOL_ID));
      expect(error).not.to.be.instanceOf(CodeDecryptionError);
      expect(error).to.have.property('name', 'ThrottlingException');
    });

    it('refuses another pool even when KMS decrypts the data key', async () => {
      const ciphertext = await encryptCode(fake.keyring(), '123456', { 'userpool-id': 'eu-west-1_OtherPool' });
      const decrypt = kmsDecrypt(KEY_ARN);
      expect(await rejection(decrypt(ciphertext, POOL_ID))).to.have.property('reason', 'wrong-pool');
    });
  });

  describe('unescaping temporary passwords', () => {
    it('decodes the entities Cognito produces', () => {
      expect(unescapeHtml('a&amp;b&lt;c&gt;d&quot;e&#39;f&apos;g')).to.equal(`a&b<c>d"e'f'g`);
    });

    it('decodes decimal and hexadecimal references', () => {
      expect(unescapeHtml('&#96;&#x60;&#X26;')).to.equal('``&');
    });

    it('decodes in one pass, so an escaped entity stays an entity', () => {
      expect(unescapeHtml('&amp;lt;')).to.equal('&lt;');
    });

    it('leaves unknown entities, bare ampersands and out-of-range references alone', () => {
      expect(unescapeHtml('&copy; & &#99999999; &;')).to.equal('&copy; & &#99999999; &;');
    });

    it('inverts HTML escaping for any password', () => {
      fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (password) => unescapeHtml(escapeHtml(password)) === password));
    });
  });
});
