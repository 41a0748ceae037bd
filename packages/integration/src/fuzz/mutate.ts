/**
 * Mutations of valid messages for the receive-path fuzzer, all driven by one seeded generator:
 * byte-level (bit flips, interesting bytes, truncation, extension, splices of two messages) and
 * structure-aware (one field of the envelope, or of a message nested in it, edited, dropped,
 * duplicated or taken from another message, then re-encoded — and, for some, re-signed with an
 * outsider's or a member's key so that the envelope signature holds and the edit reaches the
 * checks behind it).
 *
 * @module
 */
import type { KeyPair, MemberGroup } from "@orgchat/crypto";
import { defaultProvider } from "@orgchat/crypto";
import { envelopeSigningInput, MessageType } from "@orgchat/wire";
import { encodeProto, type ProtoField, parseProto } from "./protobuf.js";

/** A seeded generator (mulberry32): the same seed gives the same run. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  /** `length` bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.below(256);
    return out;
  }
}

/** The mutation strategies, by name (a run reports how many inputs each made). */
export const strategies = [
  "bit-flip",
  "interesting-bytes",
  "truncate",
  "extend",
  "splice",
  "field-edit",
  "field-edit-resigned-outsider",
  "field-edit-resigned-member",
  "group-resealed-member",
  "other-topic",
  "replay",
] as const;
export type Strategy = (typeof strategies)[number];

/** How often each strategy is drawn (weights, same order as {@link strategies}). */
const weights: Record<Strategy, number> = {
  "bit-flip": 14,
  "interesting-bytes": 8,
  truncate: 8,
  extend: 5,
  splice: 8,
  "field-edit": 15,
  "field-edit-resigned-outsider": 17,
  "field-edit-resigned-member": 17,
  "group-resealed-member": 10,
  "other-topic": 5,
  replay: 3,
};

const interestingVarints = [
  0n,
  1n,
  2n,
  127n,
  128n,
  255n,
  256n,
  65_535n,
  0x7fff_ffffn,
  0xffff_ffffn,
  0x1_0000_0000n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];
const interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xff];

/** One captured message: where it was published and its bytes. */
export interface CorpusEntry {
  readonly topic: string;
  readonly bytes: Uint8Array;
}

/** What to publish for one fuzz input. */
export interface FuzzInput {
  readonly strategy: Strategy;
  readonly topic: string;
  readonly bytes: Uint8Array;
}

/** Keys the structure-aware strategies re-sign (or re-encrypt) with. */
export interface Signers {
  readonly outsider: KeyPair;
  readonly member: KeyPair;
  /**
   * The member's own group state of an encrypted organization (kept from its store) and that
   * organization's channel topic: `group-resealed-member` encrypts an edited message content with
   * it, so the edit passes the group's authentication and reaches what reads decrypted content.
   * Each use consumes one generation of the member's chain (its own later sends may be taken for
   * replays: the insider spoils only its own messages).
   */
  readonly memberGroup?: { readonly group: MemberGroup; readonly topic: string };
}

const provider = defaultProvider();

/** Draws a strategy by weight, among `only`. */
function drawStrategy(rng: Rng, only: readonly Strategy[]): Strategy {
  let total = 0;
  for (const name of only) total += weights[name];
  let roll = rng.next() * total;
  for (const name of only) {
    roll -= weights[name];
    if (roll < 0) return name;
  }
  return only[0] ?? "bit-flip";
}

/** A byte-level edit of `bytes` (never empty: the transport refuses empty payloads). */
function mutateBytes(rng: Rng, bytes: Uint8Array, kind: Strategy, donor: Uint8Array): Uint8Array {
  let out: Uint8Array;
  switch (kind) {
    case "bit-flip": {
      out = bytes.slice();
      const flips = 1 + rng.below(8);
      for (let i = 0; i < flips && out.length > 0; i++) {
        const at = rng.below(out.length);
        out[at] = (out[at] as number) ^ (1 << rng.below(8));
      }
      break;
    }
    case "interesting-bytes": {
      out = bytes.slice();
      const edits = 1 + rng.below(4);
      for (let i = 0; i < edits && out.length > 0; i++) {
        out[rng.below(out.length)] = rng.pick(interestingBytes);
      }
      break;
    }
    case "truncate":
      out = bytes.slice(0, rng.below(bytes.length));
      break;
    case "extend":
      out = concat(bytes, rng.bytes(1 + rng.below(64)));
      break;
    default: {
      // splice: a prefix of one message and a suffix of another.
      const cut = rng.below(bytes.length + 1);
      const from = rng.below(donor.length + 1);
      out = concat(bytes.subarray(0, cut), donor.subarray(from));
      break;
    }
  }
  return out.length === 0 ? Uint8Array.of(rng.below(256)) : out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A small edit of a bytes field's value (or the value of the same field in `donor`). */
function editValue(rng: Rng, value: Uint8Array, donor: Uint8Array | undefined): Uint8Array {
  switch (rng.below(6)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return value.slice(0, rng.below(value.length + 1));
    case 2:
      return concat(value, rng.bytes(1 + rng.below(40)));
    case 3:
      return rng.bytes(value.length);
    case 4:
      if (donor !== undefined) return donor.slice();
      return value.slice();
    default: {
      const out = value.slice();
      if (out.length > 0) {
        const at = rng.below(out.length);
        out[at] = (out[at] as number) ^ (1 << rng.below(8));
      }
      return out;
    }
  }
}

/** One structural edit of `fields` (recursing into nested messages), re-encodable. */
function editFields(
  rng: Rng,
  fields: readonly ProtoField[],
  donor: readonly ProtoField[],
  depth: number,
): ProtoField[] {
  const out = fields.slice();
  if (out.length === 0)
    return [{ number: 1 + rng.below(12), wireType: 0, value: rng.pick(interestingVarints) }];
  const index = rng.below(out.length);
  const field = out[index] as ProtoField;
  const roll = rng.below(20);
  if (roll === 0) {
    out.splice(index, 1);
    return out;
  }
  if (roll === 1) {
    out.splice(index, 0, field);
    return out;
  }
  if (roll === 2) {
    out.push({ number: 1 + rng.below(30), wireType: 2, value: rng.bytes(rng.below(16)) });
    return out;
  }
  const sameInDonor = donor.filter(
    (d) => d.number === field.number && d.wireType === field.wireType,
  );
  const donorField = sameInDonor.length > 0 ? rng.pick(sameInDonor) : undefined;
  if (field.wireType === 0) {
    const current = field.value as bigint;
    const choice = rng.below(4);
    const value =
      choice === 0
        ? current + 1n
        : choice === 1 && current > 0n
          ? current - 1n
          : choice === 2 && donorField !== undefined
            ? (donorField.value as bigint)
            : rng.pick(interestingVarints);
    out[index] = { ...field, value: value & (2n ** 64n - 1n) };
    return out;
  }
  const value = field.value as Uint8Array;
  if (field.wireType === 2 && depth < 5 && rng.below(3) > 0) {
    const nested = parseProto(value);
    if (nested !== undefined && nested.length > 0) {
      const donorNested =
        donorField === undefined ? [] : (parseProto(donorField.value as Uint8Array) ?? []);
      out[index] = {
        ...field,
        value: encodeProto(editFields(rng, nested, donorNested, depth + 1)),
      };
      return out;
    }
  }
  const donorValue = donorField?.value instanceof Uint8Array ? donorField.value : undefined;
  const edited = editValue(rng, value, donorValue);
  out[index] =
    field.wireType === 2
      ? { ...field, value: edited }
      : { ...field, value: rng.bytes(field.wireType === 1 ? 8 : 4) };
  return out;
}

const decoder = new TextDecoder();

/** Edits the envelope: mostly inside its payload (field 8), the message the checks read. */
function editEnvelope(
  rng: Rng,
  fields: readonly ProtoField[],
  donor: readonly ProtoField[],
): ProtoField[] {
  const at = fields.findIndex((f) => f.number === 8 && f.wireType === 2);
  if (at === -1 || rng.below(3) === 0) return editFields(rng, fields, donor, 0);
  const payload = parseProto(fields[at]?.value as Uint8Array);
  if (payload === undefined) return editFields(rng, fields, donor, 0);
  const donorPayload = donor.find((f) => f.number === 8 && f.wireType === 2);
  const edited = editFields(
    rng,
    payload,
    donorPayload === undefined ? [] : (parseProto(donorPayload.value as Uint8Array) ?? []),
    1,
  );
  const out = fields.slice();
  out[at] = { number: 8, wireType: 2, value: encodeProto(edited) };
  return out;
}

const ownCache = new WeakMap<readonly CorpusEntry[], CorpusEntry[]>();

/** The corpus entries whose envelope `signer` (field 7) is `publicKey`. */
function ownMessages(corpus: readonly CorpusEntry[], publicKey: Uint8Array): CorpusEntry[] {
  let own = ownCache.get(corpus);
  if (own === undefined) {
    const hex = Buffer.from(publicKey).toString("hex");
    own = corpus.filter((entry) => {
      const signer = parseProto(entry.bytes)?.find((f) => f.number === 7 && f.wireType === 2);
      return (
        signer !== undefined && Buffer.from(signer.value as Uint8Array).toString("hex") === hex
      );
    });
    ownCache.set(corpus, own);
  }
  return own;
}

/** Re-signs envelope fields with `key` (signer, scheme and signature replaced); undefined if unsignable. */
function resign(fields: readonly ProtoField[], key: KeyPair): ProtoField[] | undefined {
  const last = (number: number) => fields.filter((f) => f.number === number).at(-1);
  const varint = (number: number) => {
    const f = last(number);
    return f?.wireType === 0 ? (f.value as bigint) : 0n;
  };
  const bytes = (number: number) => {
    const f = last(number);
    return f?.wireType === 2 ? (f.value as Uint8Array) : new Uint8Array(0);
  };
  const version = varint(1);
  const wireType = varint(2);
  if (version > 0xffff_ffffn || wireType > 0xffff_ffffn) return undefined;
  const input = envelopeSigningInput({
    version: Number(version),
    wireType: Number(wireType),
    organizationId: bytes(3),
    clock: varint(4),
    contentTopic: decoder.decode(bytes(5)),
    signatureScheme: 1,
    signer: key.publicKey,
    payload: bytes(8),
  });
  const signature = provider.ed25519Sign(key.secretKey, input);
  return [
    ...fields.filter((f) => f.number !== 6 && f.number !== 7 && f.number !== 9),
    { number: 6, wireType: 0, value: 1n },
    { number: 7, wireType: 2, value: key.publicKey },
    { number: 9, wireType: 2, value: signature },
  ];
}

/**
 * Makes the next fuzz input from the corpus.
 *
 * @param rng - the run's generator
 * @param corpus - valid messages captured on the victims' topics (non-empty)
 * @param topics - every topic the victims subscribe to
 * @param signers - the keys re-signing strategies use
 * @param only - the strategies to draw from (all by default)
 */
export function nextInput(
  rng: Rng,
  corpus: readonly CorpusEntry[],
  topics: readonly string[],
  signers: Signers,
  only: readonly Strategy[] = strategies,
): FuzzInput {
  let seed = rng.pick(corpus);
  const donor = rng.pick(corpus);
  const strategy = drawStrategy(rng, only);
  switch (strategy) {
    case "replay":
      return { strategy, topic: seed.topic, bytes: seed.bytes };
    case "other-topic":
      return { strategy, topic: rng.pick(topics), bytes: seed.bytes };
    case "group-resealed-member": {
      const sealer = signers.memberGroup;
      if (sealer === undefined) break;
      // The payload of an envelope (a channel message, mostly) as the content, edited.
      const payload = parseProto(seed.bytes)?.find((f) => f.number === 8 && f.wireType === 2);
      if (payload === undefined) break;
      const content = parseProto(payload.value as Uint8Array);
      const donorPayload = parseProto(donor.bytes)?.find((f) => f.number === 8 && f.wireType === 2);
      const edited =
        content === undefined || rng.below(5) === 0
          ? editValue(rng, payload.value as Uint8Array, undefined)
          : encodeProto(
              editFields(
                rng,
                content,
                donorPayload === undefined
                  ? []
                  : (parseProto(donorPayload.value as Uint8Array) ?? []),
                1,
              ),
            );
      const contentType = rng.below(4) === 0 ? rng.below(64) : MessageType.CHANNEL_MESSAGE;
      const bytes = sealer.group.encrypt({ contentType, content: edited });
      return { strategy, topic: rng.below(10) === 0 ? rng.pick(topics) : sealer.topic, bytes };
    }
    case "field-edit":
    case "field-edit-resigned-outsider":
    case "field-edit-resigned-member": {
      if (strategy === "field-edit-resigned-member" && rng.below(4) > 0) {
        // Mostly the member's own messages: re-signed, an edit passes every authorship check.
        const own = ownMessages(corpus, signers.member.publicKey);
        if (own.length > 0) seed = rng.pick(own);
      }
      const fields = parseProto(seed.bytes);
      if (fields === undefined) break;
      const edited = editEnvelope(rng, fields, parseProto(donor.bytes) ?? []);
      let out: ProtoField[] | undefined = edited;
      if (strategy !== "field-edit") {
        out = resign(
          edited,
          strategy === "field-edit-resigned-member" ? signers.member : signers.outsider,
        );
      }
      if (out === undefined) break;
      const bytes = encodeProto(out);
      return { strategy, topic: seed.topic, bytes: bytes.length === 0 ? Uint8Array.of(0) : bytes };
    }
    default:
      return {
        strategy,
        topic: seed.topic,
        bytes: mutateBytes(rng, seed.bytes, strategy, donor.bytes),
      };
  }
  return {
    strategy: "bit-flip",
    topic: seed.topic,
    bytes: mutateBytes(rng, seed.bytes, "bit-flip", donor.bytes),
  };
}
