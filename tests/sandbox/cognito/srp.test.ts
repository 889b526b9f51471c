/**
 * The server side of Cognito's SRP variant against the client side of amazon-cognito-identity-js:
 * for any password, the key the server derives is the key the library derives, and the signature
 * it expects is the one the library sends. Amplify's client is checked end to end in
 * tests/sandbox/clients/amplify.test.ts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AuthenticationHelper, clientKey, largeA } from '../../fixtures/srp-client.ts';
import { canonicalTimestamp, claimSignature, formatTimestamp, N, paddedHex, parseA, poolNameOf, serverKeys, sessionKey, signatureMatches, verifier } from '../../../sandbox/cognito/srp.ts';

async function clientSide(poolName: string, userId: string, password: string, saltHex: string, serverB: (A: bigint) => bigint): Promise<{ A: bigint; key: Buffer }> {
  const helper = new AuthenticationHelper(poolName);
  const A = BigInt(`0x${await largeA(helper)}`);
  return { A, key: await clientKey(helper, userId, password, serverB(A).toString(16), saltHex) };
}

describe('sandbox Cognito SRP arithmetic', () => {
  it('derives the same session key as amazon-cognito-identity-js for any password, user id and salt', async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.uuid(), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (password, userId, saltBytes) => {
        const saltHex = BigInt(`0x${Buffer.from(saltBytes).toString('hex') || '0'}`).toString(16);
        const v = verifier('AbCdEf123', userId, password, saltHex);
        let server: { b: bigint; B: bigint } | undefined;
        const { A, key } = await clientSide('AbCdEf123', userId, password, saltHex, () => (server = serverKeys(v)).B);
        expect(sessionKey(A, server!.B, server!.b, v).equals(key)).to.equal(true);
      }),
      { numRuns: 12 },
    );
  });

  it('derives a different key for a wrong password, so the signature the client sends does not match', async () => {
    const v = verifier('Pool1', 'user-1', 'Right-Password-1', 'a1b2c3');
    let server: { b: bigint; B: bigint } | undefined;
    const { A, key } = await clientSide('Pool1', 'user-1', 'Wrong-Password-1', 'a1b2c3', () => (server = serverKeys(v)).B);
    const block = Buffer.from('secret block');
    const timestamp = 'Tue Mar 3 09:05:07 UTC 2026';
    const expected = claimSignature(sessionKey(A, server!.B, server!.b, v), 'Pool1', 'user-1', block, timestamp);
    expect(signatureMatches(expected, claimSignature(key, 'Pool1', 'user-1', block, timestamp).toString('base64'))).to.equal(false);
    expect(signatureMatches(expected, expected.toString('base64'))).to.equal(true);
  });

  it('encodes numbers as Cognito hashes them: even length, a zero byte before a set top bit', () => {
    expect(paddedHex(0xfn)).to.equal('0f');
    expect(paddedHex(0x7fn)).to.equal('7f');
    expect(paddedHex(0x80n)).to.equal('0080');
    expect(paddedHex(0x1234n)).to.equal('1234');
    expect(paddedHex(N).startsWith('00ff')).to.equal(true);
  });

  it('refuses an SRP_A that is zero modulo N or not hex', () => {
    expect(parseA('0')).to.equal(undefined);
    expect(parseA(N.toString(16))).to.equal(undefined);
    expect(parseA((N * 2n).toString(16))).to.equal(undefined);
    expect(parseA('xyz')).to.equal(undefined);
    expect(parseA(42)).to.equal(undefined);
    expect(parseA('abc')).to.equal(0xabcn);
  });

  it('formats timestamps as the libraries do, and reads a zero-padded day as a different string', () => {
    expect(formatTimestamp(new Date(Date.UTC(2026, 2, 3, 9, 5, 7)))).to.equal('Tue Mar 3 09:05:07 UTC 2026');
    expect(canonicalTimestamp('Tue Mar 3 09:05:07 UTC 2026')).to.equal('Tue Mar 3 09:05:07 UTC 2026');
    // Cognito parses the padded day, then signs the canonical form: the client's signature no longer matches.
    expect(canonicalTimestamp('Tue Mar 03 09:05:07 UTC 2026')).to.equal('Tue Mar 3 09:05:07 UTC 2026');
    for (const bad of ['Tue Mar  3 09:05:07 UTC 2026', 'Tue Mar 3 09:05:07 +05:30 2026', 'Tue Mar 32 09:05:07 UTC 2026', '2026-03-03T09:05:07Z', undefined]) {
      expect(canonicalTimestamp(bad), String(bad)).to.equal(undefined);
    }
  });

  it('hashes the pool name, the part of the pool id after the region', () => {
    expect(poolNameOf('us-east-1_AbC123')).to.equal('AbC123');
  });
});
