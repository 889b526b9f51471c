/**
 * Decompression of the elliptic-curve public keys in AWS Encryption SDK messages, done by the
 * platform's OpenSSL (`ECDH.convertKey`) instead of big-number code.
 *
 * Every message Cognito gives a custom sender is signed (ECDSA P-384), and the message carries the
 * verification key as a compressed point. `@aws-crypto/material-management` decompresses it with
 * `bn.js`, and builds Montgomery contexts for P-256 and P-384 when it loads, whether a message is ever
 * decrypted or not: about 7 ms of every sender cold start (docs/performance.md). scripts/build.ts
 * swaps that module for this one in the bundles; the exported object has the same shape and the same
 * output. One difference, on purpose: OpenSSL refuses a point that is not on the curve, where the
 * big-number code returns some other point and leaves it to the signature check to fail.
 */
import { ECDH } from 'node:crypto';
import { SIGNING_CURVES, type SigningCurve } from './ecc-curves.ts';

/** Maps a compressed point (0x02/0x03 ‖ x) to the uncompressed form (0x04 ‖ x ‖ y). */
export type PointDecoder = (compressedPoint: Uint8Array) => Uint8Array;

function decoder({ openssl, coordinateBytes }: SigningCurve): PointDecoder {
  return (compressedPoint) => {
    if (compressedPoint.byteLength !== 1 + coordinateBytes) throw new Error('Compressed point length is not correct.');
    return new Uint8Array(ECDH.convertKey(Buffer.from(compressedPoint), openssl, undefined, undefined, 'uncompressed') as Buffer);
  };
}

const [p256, p384] = SIGNING_CURVES;
const prime256v1 = decoder(p256);
const secp384r1 = decoder(p384);

/** The named curves the Encryption SDK signs with, under both the OpenSSL and the WebCrypto names. */
export const decodeNamedCurves: Readonly<Record<'prime256v1' | 'secp384r1' | 'P-256' | 'P-384', PointDecoder>> = Object.freeze({
  prime256v1,
  secp384r1,
  'P-256': prime256v1,
  'P-384': secp384r1,
});
