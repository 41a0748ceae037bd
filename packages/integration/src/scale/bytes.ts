/** Hex of `bytes` (the integration package does not depend on `@orgchat/base`). */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Whether two byte strings are equal (public values only: not constant time). */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);
