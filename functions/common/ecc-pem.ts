/**
 * The PEM form of an Encryption SDK message's verification key, built by the platform's OpenSSL
 * (`createPublicKey`) instead of the ASN.1 code the library carries for Node versions before 11.
 *
 * Every message Cognito gives a custom sender is signed, so each decryption turns the message's public
 * key into a PEM for `crypto.Verify`. `@aws-crypto/material-management` does it with `asn1.js`, and its
 * `serialize` package defines an ASN.1 schema for WebCrypto's signature format at load time; between them
 * they load `asn1.js` and a second copy of `bn.js` into every sender's cold start (docs/performance.md).
 * scripts/build.ts swaps the library's `publicKeyPem` for this one in the bundles, and defers the rest of
 * the two modules, which a decrypting function never calls, to their first use. The output is the same
 * text. One difference, on purpose: OpenSSL refuses a point that is not on the curve, where the ASN.1
 * code encodes any bytes and leaves it to the signature check to fail.
 */
import { createPublicKey } from 'node:crypto';
import { signingCurve } from './ecc-curves.ts';

/**
 * The SubjectPublicKeyInfo PEM of an uncompressed EC point (0x04 ‖ x ‖ y), as the library's
 * `publicKeyPem` writes it: 64-character lines and a final newline.
 */
export function publicKeyPem(curve: string, publicKey: Uint8Array): string {
  const spec = signingCurve(curve);
  if (!spec) throw new Error('Unsupported curve.');
  const bytes = spec.coordinateBytes;
  if (publicKey.byteLength !== 1 + 2 * bytes || publicKey[0] !== 0x04) throw new Error('Malformed public key.');
  const point = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength);
  const key = createPublicKey({
    key: { kty: 'EC', crv: spec.web, x: point.subarray(1, 1 + bytes).toString('base64url'), y: point.subarray(1 + bytes).toString('base64url') },
    format: 'jwk',
  });
  return key.export({ type: 'spki', format: 'pem' }) as string;
}
