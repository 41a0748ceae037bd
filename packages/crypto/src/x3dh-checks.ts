/**
 * Argument checks shared by X3DH, the prekey bundle and the owner's prekeys.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

/** Whether `value` is an integer in 0..2^32-1. */
export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** @throws {RangeError} naming `argument` when `value` is not a u32 */
export function checkU32(value: number, argument: string): void {
  if (!isU32(value))
    throw new RangeError(`${argument}: expected an integer 0..2^32-1, got ${value}`);
}

/** @throws {TypeError} / {RangeError} naming `argument` when `value` is not 32 bytes */
export function checkKey(value: Uint8Array, argument: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${argument}: expected a Uint8Array`);
  if (value.length !== 32) {
    throw new RangeError(`${argument}: expected 32 bytes, got ${value.length}`);
  }
}

/** @throws {RangeError} when `now` is not a finite time in milliseconds */
export function checkNow(now: number): void {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new RangeError(`now: expected a finite time in milliseconds, got ${String(now)}`);
  }
}
