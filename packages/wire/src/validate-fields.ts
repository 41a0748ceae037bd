/**
 * Field rules shared by the message validators (validate.ts, validate-crypto.ts, validate-roster.ts):
 * the {@link Problem} they return and checks of single fields.
 */
import { encodedUtf8Length } from "@orgchat/base";
import { isChatId } from "./ids.js";
import { wireLimits } from "./limits.js";

/** A broken protocol rule: where, and what. */
export interface Problem {
  path: string;
  problem: string;
}

/** Returns the first broken rule of a decoded or to-be-encoded message, if any. */
export type Validator<T> = (message: T, path: string) => Problem | undefined;

export function text(value: string, max: number, path: string): Problem | undefined {
  // What protobuf writes for the string (a lone surrogate becomes the 3 bytes of U+FFFD).
  const length = encodedUtf8Length(value);
  return length > max
    ? { path, problem: `${length} UTF-8 bytes, more than the limit of ${max}` }
    : undefined;
}

export function publicKey(value: Uint8Array, path: string): Problem | undefined {
  return value.length === wireLimits.publicKeyBytes
    ? undefined
    : { path, problem: `expected a 32-byte public key, got ${value.length} bytes` };
}

export function optionalChatId(value: string, path: string): Problem | undefined {
  return value === "" || isChatId(value)
    ? undefined
    : { path, problem: "expected an id of 1-64 characters [A-Za-z0-9_-], or empty" };
}

export function optionalPublicKey(value: Uint8Array, path: string): Problem | undefined {
  return value.length === 0 ? undefined : publicKey(value, path);
}

export function count(length: number, max: number, path: string): Problem | undefined {
  return length > max
    ? { path, problem: `${length} entries, more than the limit of ${max}` }
    : undefined;
}

export function exactBytes(value: Uint8Array, length: number, path: string): Problem | undefined {
  return value.length === length
    ? undefined
    : { path, problem: `expected ${length} bytes, got ${value.length}` };
}

export function maxBytes(value: Uint8Array, max: number, path: string): Problem | undefined {
  return value.length > max
    ? { path, problem: `${value.length} bytes, more than ${max}` }
    : undefined;
}

/** A member's keys signature (docs/DELEGATION.md): absent (empty) or one Ed25519 signature. */
export function keysSignature(value: Uint8Array, path: string): Problem | undefined {
  return value.length === 0 || value.length === wireLimits.signatureBytes
    ? undefined
    : {
        path,
        problem: `expected a ${wireLimits.signatureBytes}-byte signature or none, got ${value.length} bytes`,
      };
}

/** A roster leaf index: below the roster limit. */
export function leafIndex(value: number, path: string): Problem | undefined {
  return value >= wireLimits.maxRosterLeaves
    ? { path, problem: `must be below the limit of ${wireLimits.maxRosterLeaves} leaves` }
    : undefined;
}
