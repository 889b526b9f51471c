/**
 * The elliptic curves the AWS Encryption SDK signs with, which functions/common/ecc-decode.ts and
 * functions/common/ecc-pem.ts hand to OpenSSL: the OpenSSL name, the WebCrypto (and JWK) name, and the
 * length of one coordinate in bytes.
 */
export const SIGNING_CURVES = Object.freeze([
  { openssl: 'prime256v1', web: 'P-256', coordinateBytes: 32 },
  { openssl: 'secp384r1', web: 'P-384', coordinateBytes: 48 },
] as const);

/** One of {@link SIGNING_CURVES}. */
export type SigningCurve = (typeof SIGNING_CURVES)[number];

/** The curve named `name` under either of its names, or `undefined` for any other string. */
export function signingCurve(name: string): SigningCurve | undefined {
  return SIGNING_CURVES.find((curve) => curve.openssl === name || curve.web === name);
}
