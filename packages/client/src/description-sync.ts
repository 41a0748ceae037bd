import { toHex } from "@orgchat/base";
import {
  assembleDescription,
  openDescriptionPages,
  stateFromDescription,
} from "@orgchat/state/description";
import type { TransportMessage } from "@orgchat/transport";
import {
  decodeDescriptionPage,
  decodeSignedEnvelope,
  descriptionTopic,
  MessageType,
  type OpenedEnvelope,
  openEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { hashId } from "./encoding.js";
import { type MemberOrg, newTxn, type Txn } from "./org.js";

const component = "client/description";

/**
 * Member side, description sync: collects the owner's signed description pages and prekey bundle
 * from the description topic, re-bases the log on the newest complete description, and follows
 * what it says about this identity (joined, removed). Owns: `MemberSide.pieces`, `.description`,
 * `.bundle`; `Org.discovered`.
 */
export class DescriptionSync {
  readonly #c: ClientCore;
  /**
   * The clock of the prekey bundle held, per organization (memory only): history read newest first
   * meets the newest bundle before older ones, which must not replace it.
   */
  readonly #bundleClocks = new WeakMap<MemberOrg, bigint>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  async onDescription(org: MemberOrg, message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    c.sync.seen.add(id);
    const topic = message.contentTopic;
    let envelope: ReturnType<typeof decodeSignedEnvelope>;
    try {
      envelope = decodeSignedEnvelope(message.payload);
    } catch (error) {
      c.report({ component, reason: "undecodable", topic, error });
      return;
    }
    if (envelope.type === MessageType.PREKEY_BUNDLE) {
      const held = this.#bundleClocks.get(org);
      if (held !== undefined && envelope.clock < held) return;
      await this.#onPrekeyBundle(org, message.payload, topic);
      return;
    }
    // Older than the description in force: of no use whoever signed it.
    const base = org.member.description?.clock;
    if (base !== undefined && envelope.clock < base) return;
    // The state's opener checks topic, organization, type and the owner's signature; the newest
    // complete description is then picked incrementally by #tryAssemble as pieces arrive.
    const opened = await openDescriptionPages([message.payload], {
      organizationId: org.hex,
      verify: c.verify,
    });
    if (opened.refused.length > 0) {
      c.report({ component, reason: "refused-page", topic });
      return;
    }
    const pieces = org.member.pieces;
    if (opened.header !== undefined) {
      pieces.headers.set(hashId(opened.header), { clock: envelope.clock, payload: opened.header });
    } else {
      pieces.pages.set(hashId(envelope.payload), envelope.payload);
    }
    await this.#tryAssemble(org);
  }

  async #onPrekeyBundle(org: MemberOrg, bytes: Uint8Array, topic: string): Promise<void> {
    const c = this.#c;
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(bytes, {
        contentTopic: descriptionTopic(org.id),
        organizationId: org.id,
        accept: ["prekey-bundle"],
        verify: c.verify,
      });
    } catch (error) {
      c.report({ component, reason: "unopenable-prekey-bundle", topic, error });
      return;
    }
    if (opened.type !== "prekey-bundle") return;
    this.#bundleClocks.set(org, opened.clock);
    const txn = newTxn(org);
    const m = opened.message;
    org.member.bundle = {
      identityKey: m.identityKey,
      identityDhKey: m.identityDhKey,
      signedPrekey: m.signedPrekey,
      signedPrekeyId: m.signedPrekeyId,
      signature: m.signature,
    };
    await c.persistence.commit(org, txn);
  }

  /**
   * A newcomer's catch-up of the description topic (`discover`, `acceptInvitation`): reads it
   * newest first (`Sync.readNewestFirst`) until the newest complete description and the owner's
   * prekey bundle are held, instead of replaying (and verifying) every description ever published.
   * What it costs depends on how far back the newest complete description is, not on the length of
   * history. Once read to the newest description, the topic's sweep mark is set to when the read
   * started, so that the first sweep does not read the topic from its start.
   * @returns whether the organization is discovered
   */
  async readNewest(org: MemberOrg): Promise<boolean> {
    const c = this.#c;
    const topic = descriptionTopic(org.id);
    const startedAt = c.now();
    await c.sync.readNewestFirst(
      org,
      topic,
      () => org.discovered && org.member.bundle !== undefined,
    );
    if (org.discovered) org.marks.set(topic, startedAt);
    return org.discovered;
  }

  /** Re-bases on the newest complete description received, if newer than the one in force. */
  async #tryAssemble(org: MemberOrg): Promise<boolean> {
    const c = this.#c;
    const member = org.member;
    const headers = [...member.pieces.headers.values()].sort((a, b) =>
      a.clock > b.clock ? -1 : a.clock < b.clock ? 1 : 0,
    );
    for (const header of headers) {
      if (member.description !== undefined && header.clock <= member.description.clock) break;
      const decoded = decodeDescriptionPage(header.payload);
      const pages: Uint8Array[] = [];
      for (const hash of decoded.index?.pageHashes ?? []) {
        const page = member.pieces.pages.get(toHex(hash));
        if (page !== undefined) pages.push(page);
      }
      const assembled = assembleDescription({ header: header.payload, pages });
      if (!assembled.ok) continue;
      const txn = newTxn(org);
      member.description = { header: header.payload, pages, clock: header.clock };
      const rebased = org.log.rebase(stateFromDescription(assembled.description, org.hex));
      c.eventLog.noteExplained(org, txn, rebased.explained);
      // Pieces at or below the base are no longer needed.
      for (const [hash, piece] of member.pieces.headers) {
        if (piece.clock <= header.clock) member.pieces.headers.delete(hash);
      }
      for (const [hash, page] of member.pieces.pages) {
        if (pages.includes(page)) member.pieces.pages.delete(hash);
      }
      const first = !org.discovered;
      org.discovered = true;
      this.#updateRole(org, txn);
      if (first) {
        txn.emits.push([
          "org:discovered",
          { organizationId: org.hex, name: org.log.state.identity.displayName },
        ]);
      }
      await c.persistence.commit(org, txn);
      await c.sync.syncSubscriptions(org);
      return true;
    }
    return false;
  }

  /** Follows what the state says about this identity (joined, removed, banned). */
  #updateRole(org: MemberOrg, txn: Txn): void {
    const state = org.log.state;
    const me = this.#c.memberId;
    if (state.members.has(me)) {
      // An observer listed is one that left and whose leave the owner has not resolved yet (it
      // joins again through a request, which makes it a requester first).
      if (org.role === "requester") {
        org.role = "member";
        if (org.member.request !== undefined) org.member.request.status = "accepted";
      }
      return;
    }
    if (org.role === "member" && !txn.before.members.has(me)) return;
    if (org.role === "member") {
      org.role = "observer";
      for (const [channelId, group] of org.member.groups) {
        group.markRemoved(this.#c.p.now());
        txn.groups.add(channelId);
      }
    }
  }
}
