// Opaque ids: a readable prefix plus 128 random bits, URL-safe.
import { randomBytes } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}
