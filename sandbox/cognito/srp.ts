/**
 * The server side of Cognito's Secure Remote Password variant (SRP-6a), as the client libraries
 * (amazon-cognito-identity-js, Amplify's auth package) compute it:
 *
 * - the 3072-bit MODP group of RFC 3526 with g = 2, and k = H(N | g);
 * - numbers hashed as Cognito's "padded hex": even length, with a `00` byte in front when the
 *   top bit is set (a positive two's-complement encoding, not the fixed-length padding of RFC 5054);
 * - x = H(salt | H(poolName | userId | ":" | password)), where poolName is the part of the pool id
 *   after the underscore and userId is the USER_ID_FOR_SRP the server sent;
 * - u = H(A | B); the session key is HKDF-SHA256(ikm = S, salt = u, info = "Caldera Derived Key"),
 *   16 bytes;
 * - the client proves the key with PASSWORD_CLAIM_SIGNATURE =
 *   base64(HMAC-SHA256(key, poolName | userId | SECRET_BLOCK bytes | TIMESTAMP)).
 *
 * SHA-256, HMAC and HKDF come from node:crypto; only the modular arithmetic is written here, with
 * BigInt. No npm SRP package implements this variant's server side and is maintained.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 3526's 3072-bit MODP prime. */
export const N = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
export const g = 2n;

/** Cognito's encoding of a non-negative number for hashing. */
export function paddedHex(n: bigint): string {
  if (n < 0n) throw new RangeError('SRP numbers are non-negative');
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const hashOfHex = (hex: string) => BigInt(`0x${sha256(Buffer.from(hex, 'hex')).toString('hex')}`);

export const k = hashOfHex(paddedHex(N) + paddedHex(g));

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** The part of a user pool id that SRP hashes: `us-east-1_AbC` → `AbC`. */
export const poolNameOf = (userPoolId: string) => userPoolId.slice(userPoolId.indexOf('_') + 1);

/** The password verifier v = g^x, for a salt given as the hex the SALT challenge parameter carries. */
export function verifier(poolName: string, userId: string, password: string, saltHex: string): bigint {
  const inner = sha256(`${poolName}${userId}:${password}`).toString('hex');
  const x = hashOfHex(paddedHex(BigInt(`0x${saltHex}`)) + inner);
  return modPow(g, x, N);
}

/** A fresh server secret b and its public value B = k·v + g^b. */
export function serverKeys(v: bigint): { b: bigint; B: bigint } {
  for (;;) {
    // 256 random bits: the secret exponent RFC 5054 asks for, at a quarter of the client's cost.
    const b = BigInt(`0x${randomBytes(32).toString('hex')}`);
    const B = (k * v + modPow(g, b, N)) % N;
    if (B !== 0n) return { b, B };
  }
}

/** A client's SRP_A is usable when it is a hex number and not a multiple of N. */
export function parseA(hex: unknown): bigint | undefined {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{1,2048}$/.test(hex)) return undefined;
  const A = BigInt(`0x${hex}`);
  return A % N === 0n ? undefined : A;
}

/** The 16-byte key both sides derive: S = (A·v^u)^b, then Cognito's HKDF. */
export function sessionKey(A: bigint, B: bigint, b: bigint, v: bigint): Buffer {
  const u = hashOfHex(paddedHex(A) + paddedHex(B));
  if (u === 0n) throw new RangeError('u is zero');
  const S = modPow((A * modPow(v, u, N)) % N, b, N);
  return Buffer.from(hkdfSync('sha256', Buffer.from(paddedHex(S), 'hex'), Buffer.from(paddedHex(u), 'hex'), 'Caldera Derived Key', 16));
}

/** The PASSWORD_CLAIM_SIGNATURE a client holding the key sends. */
export function claimSignature(key: Buffer, poolName: string, userId: string, secretBlock: Buffer, timestamp: string): Buffer {
  return createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(poolName, 'utf8'), Buffer.from(userId, 'utf8'), secretBlock, Buffer.from(timestamp, 'utf8')]))
    .digest();
}

/** Constant-time check of a base64 signature against the expected bytes. */
export function signatureMatches(expected: Buffer, claimed: unknown): boolean {
  if (typeof claimed !== 'string') return false;
  const given = Buffer.from(claimed, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIMESTAMP = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4})$/;

/** Cognito's TIMESTAMP format, `EEE MMM d HH:mm:ss z yyyy` in English and UTC: `Tue Mar 3 09:05:07 UTC 2026`. */
export function formatTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

/**
 * Reads a TIMESTAMP the way Cognito does: the date is parsed, and the signature is checked over the
 * date formatted canonically, so a zero-padded day parses but no longer matches the signature.
 */
export function canonicalTimestamp(text: unknown): string | undefined {
  const m = typeof text === 'string' ? TIMESTAMP.exec(text) : null;
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[7]), MONTHS.indexOf(m[2]!), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(m[3])) return undefined;
  return formatTimestamp(date);
}
