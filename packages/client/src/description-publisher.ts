import {
  buildDescriptionDelta,
  buildDescriptionPages,
  type DescribedState,
  describedState,
  sealDescriptionPages,
} from "@orgchat/state/description";
import { descriptionTopic, encodeDescriptionDelta, sealEnvelope } from "@orgchat/wire";
import { hashId } from "./encoding.js";
import type { OwnerOrg, OwnerSide, Txn } from "./org.js";

/** What the owner published last on the description topic (memory only: a start publishes a full one). */
interface Published {
  /** The description in force for members: the last full one or the last delta's result. */
  described: DescribedState;
  /** Sealed bytes of the last full description (header and pages). */
  fullBytes: number;
  /** Sealed bytes of the deltas published since. */
  deltaBytes: number;
  /** When the last full description was published. */
  fullAt: number;
}

const published = new WeakMap<OwnerSide, Published>();

/** Options of {@link publishDescription}. */
export interface PublishDescriptionOptions {
  /** The local clock (ms). */
  readonly now: number;
  /**
   * A full description at least this often (ms) while the description keeps changing (0 = no age
   * rule): the periodic republish (`republishIntervalMs`) keeps one within Store's retention.
   */
  readonly maxFullAgeMs: number;
  /** Publish a full description whatever the policy says. */
  readonly full?: boolean;
  /** This device's id, put in the prekey bundle (docs/RESTORE.md, "Two owner devices at once"). */
  readonly ownerDevice?: Uint8Array;
}

/** What {@link publishDescription} put into the outbox. */
export interface PublishedDescription {
  readonly kind: "full" | "delta" | "none";
  /** Sealed bytes of the description (pages or delta). */
  readonly descriptionBytes: number;
  /** Sealed bytes of the prekey bundle (sent with every publication). */
  readonly bundleBytes: number;
}

/**
 * The owner's description publication (docs/PROTOCOL.md, "Description deltas"), into the
 * transaction's outbox (persisted with the commit, then sent): a **delta** from the description
 * last published, or a **full** paged description — at the first publication after a start (no
 * base in memory), when `options.full`, when the state's clock did not move since the last one (a
 * republish), when the last full one is `maxFullAgeMs` old, when the change is too large for a delta,
 * or once the deltas since the last full one (this one included) weigh half of it. The prekey bundle
 * goes with every publication (a peer without Store history learns it live).
 *
 * @param org - the owner's organization; its state is what gets described
 * @param txn - the transaction whose outbox receives the envelopes
 * @param options - the local clock, the age rule and whether to force a full description
 * @returns what was published and its size
 * @throws {RangeError} when the state cannot be described (from `buildDescriptionPages`)
 */
export async function publishDescription(
  org: OwnerOrg,
  txn: Txn,
  options: PublishDescriptionOptions,
): Promise<PublishedDescription> {
  const owner = org.owner;
  const signer = owner.signer;
  const topic = descriptionTopic(org.id);
  const state = org.log.state;
  const last = published.get(owner);
  const push = (bytes: Uint8Array) => txn.outbox.push({ id: hashId(bytes), topic, bytes });
  const bundleMessage = {
    ...owner.prekeys.bundle(),
    ...(options.ownerDevice === undefined ? {} : { ownerDevice: options.ownerDevice }),
  };
  const sealBundle = async () => {
    const bytes = await sealEnvelope(
      {
        type: "prekey-bundle",
        organizationId: org.id,
        clock: state.clock,
        contentTopic: topic,
        message: bundleMessage,
      },
      signer,
    );
    push(bytes);
    return bytes.length;
  };

  // The delta from the description in force (also the digest base after a full one).
  const built =
    last !== undefined && state.clock > last.described.state.clock
      ? buildDescriptionDelta(last.described, state)
      : undefined;
  const fullDue =
    last === undefined ||
    options.full === true ||
    (options.maxFullAgeMs > 0 && options.now - last.fullAt >= options.maxFullAgeMs);
  if (!fullDue) {
    if (built !== undefined) {
      let encoded: Uint8Array | undefined;
      try {
        encoded = encodeDescriptionDelta(built.delta);
      } catch {
        // Over the message cap (a huge header change): a full description carries it instead.
        encoded = undefined;
      }
      if (encoded !== undefined) {
        const bytes = await sealEnvelope(
          {
            type: "description-delta",
            organizationId: org.id,
            clock: state.clock,
            contentTopic: topic,
            message: built.delta,
          },
          signer,
        );
        if (2 * (last.deltaBytes + bytes.length) < last.fullBytes) {
          push(bytes);
          // With every publication: a peer that hears the owner live only (no Store) can still
          // open its pairwise channel (~300 bytes).
          const bundleBytes = await sealBundle();
          published.set(owner, {
            ...last,
            described: built.described,
            deltaBytes: last.deltaBytes + bytes.length,
          });
          return { kind: "delta", descriptionBytes: bytes.length, bundleBytes };
        }
      }
    }
  }

  const sealed = await sealDescriptionPages({
    pages: buildDescriptionPages(state),
    organizationId: org.hex,
    signer,
  });
  let fullBytes = 0;
  for (const bytes of [sealed.header, ...sealed.pages]) {
    push(bytes);
    fullBytes += bytes.length;
  }
  const bundleBytes = await sealBundle();
  // The base of the next delta: incremental from the last one when there is one (what changed),
  // unchanged at the same clock (a republish), else from scratch (once per start).
  const described =
    built?.described ??
    (last !== undefined && state.clock === last.described.state.clock
      ? last.described
      : describedState(state));
  published.set(owner, { described, fullBytes, deltaBytes: 0, fullAt: options.now });
  return { kind: "full", descriptionBytes: fullBytes, bundleBytes };
}
