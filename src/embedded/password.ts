/** Password hashing for HTTP Basic auth: scrypt with a random 16-octet salt, compared in constant time. */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export function hashPassword(password: string): { salt: Buffer; hash: Buffer } {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(password.normalize('NFC'), salt, 32) };
}

export function verifyPassword(password: string, salt: Uint8Array, hash: Uint8Array): boolean {
  const got = scryptSync(password.normalize('NFC'), salt, 32);
  return got.length === hash.length && timingSafeEqual(got, hash);
}
