/**
 * Server state handed to a client between two sign-in steps (SRP's secret block, a custom-auth
 * Session), sealed with AES-GCM under a key that lives as long as the sandbox: the client can carry
 * it but neither read nor change it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class Sealer<T> {
  private readonly key = randomBytes(32);

  seal(state: T): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  }

  /** The state, or undefined for anything this sealer did not seal (or that was changed). */
  open(text: unknown): T | undefined {
    if (typeof text !== 'string') return undefined;
    const raw = Buffer.from(text, 'base64');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }
}
