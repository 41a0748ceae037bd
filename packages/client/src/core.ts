import type { Diagnostic } from "@orgchat/base";
import { toHex } from "@orgchat/base";
import {
  type CryptoProvider,
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
  type KeyPair,
} from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import type { Transport } from "@orgchat/transport";
import { type EnvelopeSigner, type EnvelopeVerifier, inboxTopic } from "@orgchat/wire";
import { OwnerActions } from "./actions.js";
import { Delegates } from "./delegates.js";
import { DescriptionSync } from "./description-sync.js";
import { ClientEmitter } from "./emitter.js";
import { OwnerEpochs } from "./epochs.js";
import { NotOwnerError, UnknownOrganizationError } from "./errors.js";
import { EventLog } from "./event-log.js";
import { KeySync } from "./key-sync.js";
import { Membership } from "./membership.js";
import { Messages } from "./messages.js";
import { type DeskOrg, isDeskOrg, type Org, type OwnerOrg } from "./org.js";
import { OwnerDevices } from "./owner-device.js";
import { OwnerRequests } from "./owner-requests.js";
import { PairwiseChannel } from "./pairwise.js";
import { Persistence } from "./persistence.js";
import { Recovery } from "./recovery.js";
import { Restore } from "./restore.js";
import { Runtime } from "./runtime.js";
import { Sync } from "./sync.js";
import type { ClientConfig, ClientTimers } from "./types.js";
import type { Vault } from "./vault.js";
import { Views } from "./views.js";

/** What the components share: injected collaborators and the identity, resolved by `createClient`. */
export interface ClientComponents {
  readonly provider: CryptoProvider;
  readonly random: (length: number) => Uint8Array;
  readonly now: () => number;
  readonly timers: ClientTimers;
  readonly config: Required<ClientConfig>;
  readonly store: Store;
  readonly transport: Transport;
  readonly vault: Vault;
  readonly identity: KeyPair;
  readonly identityDh: KeyPair;
}

/**
 * The client's components, wired together (js-libp2p style): each owns one slice of state and
 * reaches the others through here. The map is in docs/CLIENT.md, "Components".
 */
export class ClientCore {
  readonly p: ClientComponents;
  /** This identity's member id (hex of its Ed25519 key). */
  readonly memberId: string;
  readonly identitySigner: EnvelopeSigner;
  readonly verify: EnvelopeVerifier;
  /** This identity's inbox topic. */
  readonly inbox: string;
  readonly emitter = new ClientEmitter();
  /** Every organization this client knows, by id (hex). Owned here, changed by the components. */
  readonly orgs = new Map<string, Org>();
  /**
   * Organizations kept in the store but not run, by id (hex), and why: this identity owns them and
   * its store was restored from a backup (docs/RESTORE.md).
   */
  readonly inactive = new Map<string, "owner-restored">();

  readonly runtime: Runtime;
  readonly persistence: Persistence;
  readonly eventLog: EventLog;
  readonly views: Views;
  readonly sync: Sync;
  readonly descriptionSync: DescriptionSync;
  readonly keySync: KeySync;
  readonly recovery: Recovery;
  readonly restore: Restore;
  readonly messages: Messages;
  readonly pairwise: PairwiseChannel;
  readonly ownerRequests: OwnerRequests;
  readonly delegates: Delegates;
  readonly epochs: OwnerEpochs;
  readonly actions: OwnerActions;
  readonly membership: Membership;
  readonly ownerDevices: OwnerDevices;

  constructor(parts: ClientComponents) {
    this.p = parts;
    this.memberId = toHex(parts.identity.publicKey);
    this.identitySigner = ed25519EnvelopeSigner(parts.provider, parts.identity.secretKey);
    this.verify = ed25519EnvelopeVerifier(parts.provider);
    this.inbox = inboxTopic(parts.identity.publicKey);
    this.runtime = new Runtime(this);
    this.persistence = new Persistence(this);
    this.eventLog = new EventLog(this);
    this.views = new Views(this);
    this.sync = new Sync(this);
    this.descriptionSync = new DescriptionSync(this);
    this.keySync = new KeySync(this);
    this.recovery = new Recovery(this);
    this.restore = new Restore(this);
    this.messages = new Messages(this);
    this.pairwise = new PairwiseChannel(this);
    this.ownerRequests = new OwnerRequests(this);
    this.delegates = new Delegates(this);
    this.epochs = new OwnerEpochs(this);
    this.actions = new OwnerActions(this);
    this.membership = new Membership(this);
    this.ownerDevices = new OwnerDevices(this);
  }

  /** The injected clock, in whole non-negative ms (what events and records carry). */
  now(): number {
    return Math.max(0, Math.trunc(this.p.now()));
  }

  /**
   * The one diagnostic hook: network input dropped (undecodable, unauthentic, not for us) or a
   * background step skipped, reported as a `diagnostic` event (docs/CLIENT.md, "Diagnostics").
   */
  report(diagnostic: Diagnostic): void {
    this.emitter.emit("diagnostic", diagnostic);
  }

  /** @throws {UnknownOrganizationError} when the organization is not known here */
  org(organizationId: string): Org {
    const org = this.orgs.get(organizationId.toLowerCase());
    if (org === undefined) throw new UnknownOrganizationError(organizationId);
    return org;
  }

  /**
   * An organization in which this client receives requests: its owner's, or a delegate's desk
   * (docs/DELEGATION.md).
   * @throws {UnknownOrganizationError} / {NotOwnerError} when it is neither
   */
  desk(organizationId: string): DeskOrg {
    const org = this.org(organizationId);
    if (!isDeskOrg(org)) throw new NotOwnerError(org.hex);
    return org;
  }

  /**
   * An organization this device may write as owner.
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {OwnerForkDetectedError} (another
   *   device writes it as owner too: docs/RESTORE.md)
   */
  owned(organizationId: string): OwnerOrg {
    const org = this.org(organizationId);
    if (org.role !== "owner") throw new NotOwnerError(org.hex);
    this.ownerDevices.check(org);
    return org;
  }

  /** The member id this client acts as in `org` (the organization key for its owner). */
  self(org: Org): string {
    return org.role === "owner" ? org.hex : this.memberId;
  }
}
