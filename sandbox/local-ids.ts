/**
 * The sandbox's local id scheme: deterministic ids and ARNs derived from resource names, so `make sandbox`
 * prints the same pool and client ids on every start, in the formats AWS uses.
 */
import { createHash } from 'node:crypto';

/** A stable pseudo-random id, so `make sandbox` prints the same pool and client ids on every start. */
function stableId(seed: string, length: number, alphabet: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[digest[i % digest.length]! % alphabet.length];
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A user pool id: `<region>_` and nine characters, as Cognito makes them. */
export const poolIdFor = (region: string, seed: string) => `${region}_${stableId(`pool:${seed}`, 9, ALNUM)}`;
/** An app client id: 26 lowercase characters, as Cognito makes them. */
export const clientIdFor = (seed: string) => stableId(`client:${seed}`, 26, LOWER_ALNUM);
/** A version-4-shaped UUID (KMS key ids). */
export const uuidFor = (seed: string) => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** A table's local stream ARN; DynamoDB names a stream after its creation time, the sandbox after the epoch. */
export const streamArnFor = (tableArn: string) => `${tableArn}/stream/1970-01-01T00:00:00.000`;

/** A secret's ARN: Secrets Manager appends six random characters to the name; the sandbox derives them. */
export const secretArnFor = (region: string, accountId: string, name: string) =>
  `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${stableId(`secret:${name}`, 6, ALNUM)}`;
