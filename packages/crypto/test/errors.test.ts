/**
 * The package's errors: names, guards, `cause`, and the exact message text callers and logs have
 * seen since the first release (each message is "what went wrong" + `hint`); and the one constant-time
 * byte equality.
 */
import { OrgchatError } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { constantTimeEqual } from "../src/constant-time.js";
import {
  DecryptionFailedError,
  DuplicateMessageError,
  GenerationTooFarError,
  InvalidPublicKeyError,
  isDecryptionFailedError,
  isDuplicateMessageError,
  isGenerationTooFarError,
  isInvalidPublicKeyError,
  isNoForkPointError,
  isStateCorruptedError,
  isUnknownEpochError,
  NoForkPointError,
  StateCorruptedError,
  UnknownEpochError,
} from "../src/errors.js";

describe("errors", () => {
  const cause = new Error("underlying");
  const cases = [
    {
      error: new DecryptionFailedError({ cause }),
      guard: isDecryptionFailedError,
      message:
        "Decryption failed: the message is not authentic for any key we hold. Drop it; if every message of an epoch fails, request a resync.",
      hint: "Drop it; if every message of an epoch fails, request a resync.",
    },
    {
      error: new InvalidPublicKeyError("X25519 shared secret is all zero (small-order point)", {
        cause,
      }),
      guard: isInvalidPublicKeyError,
      message:
        "Invalid public key: X25519 shared secret is all zero (small-order point). Refuse the key and whatever carried it.",
      hint: "Refuse the key and whatever carried it.",
    },
    {
      error: new DuplicateMessageError("generation 3 of leaf 1"),
      guard: isDuplicateMessageError,
      message:
        "Duplicate or replayed message: generation 3 of leaf 1. It was already decrypted once; drop it.",
      hint: "It was already decrypted once; drop it.",
    },
    {
      error: new GenerationTooFarError("1,001 ahead"),
      guard: isGenerationTooFarError,
      message:
        "Message too far ahead in its chain: 1,001 ahead. Drop it; resync if messages keep failing.",
      hint: "Drop it; resync if messages keep failing.",
    },
    {
      error: new UnknownEpochError("0011223344556677", "expired"),
      guard: isUnknownEpochError,
      message:
        "No key for epoch 0011223344556677: expired. Fetch missing KeyUpdates from Store or request a resync from the owner.",
      hint: "Fetch missing KeyUpdates from Store or request a resync from the owner.",
    },
    {
      error: new StateCorruptedError("state is truncated", { cause }),
      guard: isStateCorruptedError,
      message:
        "Crypto state cannot be restored: state is truncated. Restore it from a backup or resync.",
      hint: "Restore it from a backup or resync.",
    },
    {
      error: new NoForkPointError("0011223344556677", "its keys expired"),
      guard: isNoForkPointError,
      message:
        "Cannot go back to epoch 0011223344556677: its keys expired. The epoch is past its retention window: request a resync from the owner.",
      hint: "The epoch is past its retention window: request a resync from the owner.",
    },
  ] as const;

  it.each(cases)("$error.name keeps its message, hint, name and guard", (c) => {
    expect(c.error.message).toBe(c.message);
    expect(c.error.hint).toBe(c.hint);
    expect(c.error).toBeInstanceOf(OrgchatError);
    expect(c.error.name).toBe((c.error.constructor as unknown as { errorName: string }).errorName);
    expect(c.guard(c.error)).toBe(true);
    // A guard checks the name, so it also holds for a plain object that crossed a structured clone.
    expect(c.guard({ name: c.error.name, message: c.error.message })).toBe(true);
    for (const other of cases) if (other !== c) expect(other.guard(c.error)).toBe(false);
  });

  it("keeps cause when one is given, and has none otherwise", () => {
    expect(new DecryptionFailedError({ cause }).cause).toBe(cause);
    expect("cause" in new DecryptionFailedError()).toBe(false);
    expect(new UnknownEpochError("00", "x").keyIdHex).toBe("00");
  });
});

describe("constantTimeEqual", () => {
  it("is true for the same bytes and false for any difference or length", () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(0, 2, 3), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it("does not stop at the first difference (it reads every byte)", () => {
    let reads = 0;
    const bytes = new Uint8Array(8);
    const counted = new Proxy(bytes, {
      get(target, property) {
        if (typeof property === "string" && /^\d+$/.test(property)) reads++;
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const other = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);
    expect(constantTimeEqual(counted, other)).toBe(false);
    expect(reads).toBe(8);
  });
});
