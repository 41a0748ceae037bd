/** Small byte helpers of the adversary harness (hex ids as the client names them). */
import { createHash } from "node:crypto";

/** Hex of bytes. */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** The 32-byte key of a hex organization or member id. */
export function keyOf(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Hex SHA-256 of a payload: the id clients give every message they publish or receive. */
export function idOf(payload: Uint8Array): string {
  return createHash("sha256").update(payload).digest("hex");
}
