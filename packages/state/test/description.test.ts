import { createHash } from "node:crypto";
import {
  decodeDescriptionPage,
  decodeOrganizationDescription,
  descriptionTopic,
  encodeDescriptionPage,
  encodeOrganizationDescription,
  OrganizationMember_Roles,
  type OrganizationPermissions_Access,
  openEnvelope,
  sealEnvelope,
} from "@orgchat/wire";
import fc from "fast-check";
import { Map as ImmutableMap, List } from "immutable";
import { describe, expect, it } from "vitest";
import {
  assembleDescription,
  buildDescriptionPages,
  type DescriptionPages,
  describeOrganization,
  descriptionPageHash,
  descriptionPageLimits,
  type OrganizationDescriptionInit,
  openDescriptionPages,
  sealDescriptionPages,
  stateFromDescription,
} from "../src/description/index.js";
import type { Identity, Permissions, Role } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import type { Ban, Category, Channel, Member, OrgState } from "../src/state.js";
import { ed25519Key, verify } from "./ed25519.js";

// Fixed seeds: property tests are deterministic (docs/STYLE.md, "Tests").
const seed = 0x5eed55;
/** Any value, the unusual ones included (null prototypes, typed arrays, maps, boxed values). */
const anyValue = () =>
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withTypedArray: true,
    withSparseArray: true,
    withDate: true,
  });
const KiB = 1024;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();
/** A deterministic member id: 64 lowercase hex characters. */
const memberId = (label: string) => sha256(label).toString("hex");

const organizationKey = ed25519Key(0x01);
const orgId = hex(organizationKey.publicKey);

const identity = (name: string, withImage = false): Identity => ({
  displayName: name,
  description: `${name}, described`,
  ensName: `${name.toLowerCase()}.eth`,
  images: withImage
    ? {
        thumbnail: {
          payload: new Uint8Array([1, 2, 3, 4]),
          sourceType: "raw-payload",
          imageType: "png",
          encrypted: false,
          encryptionKeys: [],
        },
        __proto__: {
          payload: new Uint8Array([9]),
          sourceType: "ens-avatar",
          imageType: "unknown",
          encrypted: true,
          encryptionKeys: [new Uint8Array([7, 7])],
        },
      }
    : {},
});

// `__proto__` inside an object literal would set the prototype; make it an own key instead.
function withProtoKey(value: Identity): Identity {
  const images = { ...value.images };
  const proto = Object.getPrototypeOf(value.images) as Identity["images"][string] | null;
  if (proto && "payload" in proto) {
    Object.defineProperty(images, "__proto__", {
      value: proto,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ...value, images };
}

function rolesOf(i: number): Role[] {
  if (i % 97 === 0) return ["all"];
  if (i % 11 === 0) return ["manage-users", "moderate-content"];
  if (i % 7 === 0) return ["moderate-content"];
  return [];
}

interface StateShape {
  readonly members: number;
  readonly bans?: number;
  readonly channels?: readonly { id: string; members: number; permissions?: Permissions }[];
  readonly categories?: readonly string[];
  readonly clock?: bigint;
  readonly images?: boolean;
}

/** A state of the given shape, built directly (the description carries no event history). */
function makeState(shape: StateShape): OrgState {
  const clock = shape.clock ?? 4242n;
  const ids = Array.from({ length: shape.members }, (_, i) => memberId(`member-${i}`));
  const members = ImmutableMap<string, Member>().withMutations((map) => {
    map.set(orgId, { id: orgId, roles: List<Role>(["all"]), joinedAt: 1n, displayName: "" });
    ids.forEach((id, i) => {
      // Some members named (one with a 256-byte name, the most the wire allows), most not.
      const displayName = i % 3 === 0 ? (i === 3 ? "ü".repeat(128) : `member ${i}`) : "";
      map.set(id, { id, roles: List(rolesOf(i)), joinedAt: BigInt(i + 2), displayName });
    });
  });
  const banned = ImmutableMap<string, Ban>().withMutations((map) => {
    for (let i = 0; i < (shape.bans ?? 0); i++) {
      const id = memberId(`banned-${i}`);
      map.set(id, { member: id, clock: BigInt(i), deleteMessages: i % 2 === 0 });
    }
  });
  const channels = ImmutableMap<string, Channel>().withMutations((map) => {
    for (const channel of shape.channels ?? []) {
      map.set(channel.id, {
        id: channel.id,
        identity: identity(`Channel ${channel.id}`),
        permissions: channel.permissions ?? {
          access: "no-membership",
          ensOnly: false,
          private: false,
        },
        categoryId: shape.categories?.[0] ?? "",
        members: ImmutableMap(
          ids.slice(0, channel.members).map((id, i) => [id, List(rolesOf(i + 3))] as const),
        ),
      });
    }
  });
  const categories = ImmutableMap<string, Category>(
    (shape.categories ?? []).map((id) => [id, { id, name: `Category ${id}` }] as const),
  );
  return {
    ...initialState(orgId),
    created: true,
    clock,
    identity: withProtoKey(identity("Acme", shape.images ?? false)),
    permissions: { access: "on-request", ensOnly: true, private: false },
    pinMessageAllMembersEnabled: true,
    tags: List(["dev", "waku"]),
    encrypted: true,
    members,
    banned,
    channels,
    categories,
  };
}

const byKey = <T>(entries: Iterable<[string, T]>) =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Every field a description carries, in a comparable shape. */
function carried(state: OrgState) {
  return {
    organizationId: state.organizationId,
    clock: state.clock,
    identity: state.identity,
    permissions: state.permissions,
    pinMessageAllMembersEnabled: state.pinMessageAllMembersEnabled,
    tags: state.tags.toArray(),
    encrypted: state.encrypted,
    members: byKey([...state.members].map(([id, m]) => [id, m.roles.toArray()])),
    banned: [...state.banned.keys()].sort(),
    channels: byKey(
      [...state.channels].map(([id, c]) => [
        id,
        {
          identity: c.identity,
          permissions: c.permissions,
          categoryId: c.categoryId,
          members: byKey([...c.members].map(([m, roles]) => [m, roles.toArray()])),
        },
      ]),
    ),
    categories: byKey([...state.categories].map(([id, c]) => [id, c.name])),
  };
}

/** The decoded header page of built pages. */
function headerOf(pages: DescriptionPages) {
  const header = decodeDescriptionPage(pages.header);
  if (header.index === undefined || header.description === undefined) throw new Error("no header");
  return { ...header, index: header.index, description: header.description };
}

/** The description slice a roster page carries. */
function rosterOf(page: Uint8Array) {
  const description = decodeDescriptionPage(page).description;
  if (description === undefined) throw new Error("no description");
  return description;
}

function roundTrip(pages: DescriptionPages): OrgState {
  const assembled = assembleDescription({ header: pages.header, pages: pages.pages });
  if (!assembled.ok) throw new Error(`assembly failed: ${JSON.stringify(assembled)}`);
  return stateFromDescription(assembled.description, orgId);
}

const small = makeState({
  members: 40,
  bans: 3,
  channels: [
    { id: "general", members: 0 },
    { id: "__proto__", members: 5 },
    {
      id: "42",
      members: 12,
      permissions: { access: "invitation-only", ensOnly: false, private: true },
    },
  ],
  categories: ["main", "7"],
  images: true,
});

const large = makeState({
  members: 10_000,
  bans: 300,
  channels: [
    { id: "general", members: 0 },
    { id: "staff", members: 40 },
    { id: "private-1", members: 2_500 },
  ],
  categories: ["main"],
});

// Many small pages make the properties below meaningful.
const medium = makeState({
  members: 600,
  bans: 40,
  // "10" and "9" are integer-like: JS objects reorder such keys, the canonical order must not.
  channels: [
    { id: "a", members: 150 },
    { id: "b", members: 300 },
    { id: "10", members: 30 },
    { id: "9", members: 30 },
  ],
});

describe("page hashes (SHA-256)", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(hex(descriptionPageHash(new Uint8Array(0)))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(hex(descriptionPageHash(new TextEncoder().encode("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(
      hex(
        descriptionPageHash(
          new TextEncoder().encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        ),
      ),
    ).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  it("agrees with node:crypto on any input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(hex(descriptionPageHash(bytes))).toBe(sha256(bytes).toString("hex"));
      }),
      { seed, numRuns: 300 },
    );
    const big = new Uint8Array(130_000).map((_, i) => (i * 31) & 0xff);
    expect(hex(descriptionPageHash(big))).toBe(sha256(big).toString("hex"));
  });

  it("refuses a non-Uint8Array with a TypeError", () => {
    expect(() => descriptionPageHash("page" as never)).toThrow(TypeError);
  });
});

describe("describeOrganization / stateFromDescription", () => {
  it("round-trips a small organization through one encoded description", () => {
    const bytes = encodeOrganizationDescription(describeOrganization(small));
    const back = stateFromDescription(decodeOrganizationDescription(bytes), orgId);
    expect(carried(back)).toEqual(carried(small));
    expect(back.channels.get("__proto__")?.members.size).toBe(5);
    expect(Object.keys(back.identity.images).sort()).toEqual(["__proto__", "thumbnail"]);
  });

  it("writes every map and list in sorted order", () => {
    const description = describeOrganization(large);
    const members = Object.keys(description.members ?? {});
    expect(members).toEqual([...members].sort());
    expect(description.banList).toEqual([...(description.banList ?? [])].sort());
  });

  it("fills what a description does not carry with documented values", () => {
    const back = stateFromDescription(describeOrganization(small), orgId);
    expect(back.created).toBe(true);
    for (const member of back.members.values()) expect(member.joinedAt).toBe(small.clock);
    for (const ban of back.banned.values()) {
      expect(ban).toEqual({ member: ban.member, clock: small.clock, deleteMessages: false });
    }
    expect(back.requests.size + back.invitations.size + back.grants.size).toBe(0);
    expect(back.messages.size + back.applied.size + back.epochs.size).toBe(0);
  });

  it("keeps the organization key a member and never banned; bans win over listings", () => {
    const other = memberId("both-listed-and-banned");
    const back = stateFromDescription(
      { clock: 9n, members: { [other]: { roles: [] } }, banList: [other, orgId] },
      orgId,
    );
    expect(back.members.has(orgId)).toBe(true);
    expect(back.members.has(other)).toBe(false);
    expect([...back.banned.keys()]).toEqual([other]);
  });

  it("reads unknown roles as nothing and an unknown access mode as invitation-only", () => {
    const someone = memberId("someone");
    const back = stateFromDescription(
      {
        clock: 3n,
        permissions: { access: 9 as OrganizationPermissions_Access },
        members: {
          [someone]: {
            roles: [
              OrganizationMember_Roles.UNKNOWN_ROLE,
              7 as OrganizationMember_Roles,
              OrganizationMember_Roles.ROLE_MODERATE_CONTENT,
            ],
          },
        },
      },
      orgId,
    );
    expect(back.permissions.access).toBe("invitation-only");
    expect(back.members.get(someone)?.roles.toArray()).toEqual(["moderate-content"]);
    const noPermissions = stateFromDescription({ clock: 3n }, orgId);
    expect(noPermissions.permissions).toEqual({
      access: "invitation-only",
      ensOnly: false,
      private: false,
    });
  });

  it("never throws on any description value", () => {
    const descriptionLike = fc.record(
      {
        clock: fc.oneof(fc.bigInt(), anyValue()),
        members: fc.oneof(
          fc.dictionary(
            fc.oneof(fc.string(), fc.constant(memberId("x"))),
            fc.oneof(anyValue(), fc.record({ roles: fc.array(anyValue()) })),
          ),
          anyValue(),
        ),
        chats: fc.oneof(fc.dictionary(fc.string(), anyValue()), anyValue()),
        categories: fc.oneof(fc.dictionary(fc.string(), anyValue()), anyValue()),
        banList: fc.oneof(fc.array(anyValue()), anyValue()),
        identity: anyValue(),
        permissions: anyValue(),
        adminSettings: anyValue(),
        tags: fc.oneof(fc.array(anyValue()), anyValue()),
        encrypted: anyValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(descriptionLike, anyValue()), (description) => {
        const state = stateFromDescription(description as never, orgId);
        expect(state.members.has(orgId)).toBe(true);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it("refuses an organization id that is not a member id with a RangeError", () => {
    expect(() => stateFromDescription({ clock: 1n }, "0x1234")).toThrow(RangeError);
  });
});

describe("buildDescriptionPages / assembleDescription", () => {
  it("round-trips a small organization", () => {
    const pages = buildDescriptionPages(small);
    const header = headerOf(pages);
    expect(header.index.pageCount).toBe(1);
    expect(header.index.pageHashes).toEqual([descriptionPageHash(pages.pages[0] as Uint8Array)]);
    expect(header.clock).toBe(small.clock);
    expect(header.pageIndex).toBe(0);
    expect(carried(roundTrip(pages))).toEqual(carried(small));
  });

  it("writes DescriptionPages: a header with the index, roster pages at their position", () => {
    const pages = buildDescriptionPages(large);
    const header = headerOf(pages);
    expect(header.description.clock).toBe(large.clock);
    expect(header.index.pageHashes.map(hex)).toEqual(
      pages.pages.map((p) => sha256(p).toString("hex")),
    );
    for (const [i, bytes] of pages.pages.entries()) {
      const page = decodeDescriptionPage(bytes);
      expect(page.index).toBeUndefined();
      expect(page.pageIndex).toBe(i);
      expect(page.clock).toBe(large.clock);
    }
  });

  it("round-trips a 10,000-member organization, every page within 120 KiB", () => {
    const pages = buildDescriptionPages(large);
    expect(pages.pages.length).toBeGreaterThan(5);
    for (const page of pages.pages) expect(page.length).toBeLessThanOrEqual(120 * KiB);
    // The header is small: no rosters, only the page hashes.
    expect(pages.header.length).toBeLessThan(4 * KiB);
    const back = roundTrip(pages);
    expect(back.members.size).toBe(10_001);
    expect(carried(back)).toEqual(carried(large));
  });

  it("keeps a big ban list and channel rosters out of the header", () => {
    const crowded = makeState({
      members: 4_000,
      bans: 4_000,
      channels: [{ id: "everyone", members: 4_000 }],
    });
    const pages = buildDescriptionPages(crowded);
    expect(pages.header.length).toBeLessThan(2 * KiB);
    const header = headerOf(pages);
    expect(header.description.banList).toEqual([]);
    expect(header.description.chats.everyone?.members).toEqual({});
    expect(carried(roundTrip(pages))).toEqual(carried(crowded));
  });

  it("packs pages nearly full (the size arithmetic matches the encoding)", () => {
    const { pages } = buildDescriptionPages(large);
    const { maxPageBytes, pageFramingBytes } = descriptionPageLimits;
    for (const page of pages.slice(0, -1)) {
      expect(page.length).toBeLessThanOrEqual(maxPageBytes);
      expect(page.length).toBeGreaterThan(maxPageBytes - pageFramingBytes - 200);
    }
  });

  it("seals every page under the 150 KiB message cap; the envelopes open to the page bytes", async () => {
    const pages = buildDescriptionPages(large);
    const sealed = await sealDescriptionPages({
      pages,
      organizationId: orgId,
      signer: organizationKey,
    });
    const contentTopic = descriptionTopic(organizationKey.publicKey);
    const all = [sealed.header, ...sealed.pages];
    expect(all).toHaveLength(pages.pages.length + 1);
    for (const [i, envelope] of all.entries()) {
      expect(envelope.length).toBeLessThanOrEqual(150 * KiB);
      const opened = await openEnvelope(envelope, {
        contentTopic,
        organizationId: organizationKey.publicKey,
        accept: ["description-page"],
        verify,
      });
      expect(opened.clock).toBe(large.clock);
      expect(opened.payload).toEqual(i === 0 ? pages.header : pages.pages[i - 1]);
    }
  });

  it("opens sealed pages in any order and reassembles them", async () => {
    const pages = buildDescriptionPages(medium, { maxPageBytes: 4 * KiB });
    const sealed = await sealDescriptionPages({
      pages,
      organizationId: orgId,
      signer: organizationKey,
    });
    const envelopes = [
      ...sealed.pages.slice(3),
      sealed.header,
      ...sealed.pages.slice(0, 3),
    ].reverse();
    const opened = await openDescriptionPages(envelopes, { organizationId: orgId, verify });
    expect(opened.header).toEqual(pages.header);
    expect(opened.headerPage?.index.pageCount).toBe(pages.pages.length);
    expect(opened.refused).toEqual([]);
    expect(opened.unlisted).toEqual([]);
    expect(opened.pages).toHaveLength(pages.pages.length);
    const assembled = assembleDescription({ header: pages.header, pages: opened.pages });
    if (!assembled.ok) throw new Error(`assembly failed: ${JSON.stringify(assembled)}`);
    expect(carried(stateFromDescription(assembled.description, orgId))).toEqual(carried(medium));
  });

  it("is deterministic: the same state gives the same bytes whatever its insertion order", () => {
    const first = buildDescriptionPages(large);
    const shuffled: OrgState = {
      ...large,
      members: ImmutableMap([...large.members].reverse()),
      banned: ImmutableMap([...large.banned].reverse()),
    };
    const second = buildDescriptionPages(shuffled);
    expect(second.pages).toEqual(first.pages);
    expect(second.header).toEqual(first.header);
  });

  it("builds only a header for an organization without rosters", () => {
    const empty: OrgState = { ...small, members: ImmutableMap(), banned: ImmutableMap() };
    const pages = buildDescriptionPages({ ...empty, channels: ImmutableMap() });
    expect(pages.pages).toHaveLength(0);
    expect(headerOf(pages).index.pageCount).toBe(0);
    const assembled = assembleDescription(pages);
    expect(assembled.ok).toBe(true);
  });

  it("refuses a page budget out of range with a RangeError", () => {
    for (const maxPageBytes of [0, 1023, 150 * KiB, 2000.5, Number.NaN]) {
      expect(() => buildDescriptionPages(small, { maxPageBytes })).toThrow(RangeError);
    }
  });

  it("refuses a header that cannot fit the budget with a RangeError", () => {
    const huge: Identity = {
      ...identity("Huge"),
      images: {
        banner: {
          payload: new Uint8Array(3000),
          sourceType: "raw-payload",
          imageType: "png",
          encrypted: false,
          encryptionKeys: [],
        },
      },
    };
    expect(() =>
      buildDescriptionPages({ ...small, identity: huge }, { maxPageBytes: 2048 }),
    ).toThrow(RangeError);
  });

  const mediumPages = buildDescriptionPages(medium, { maxPageBytes: 4 * KiB });

  it("splits channel rosters across pages too", () => {
    expect(mediumPages.pages.length).toBeGreaterThanOrEqual(20);
    for (const page of mediumPages.pages) expect(page.length).toBeLessThanOrEqual(4 * KiB);
    expect(mediumPages.header.length).toBeLessThanOrEqual(4 * KiB);
    const spread = mediumPages.pages.filter((page) => Object.keys(rosterOf(page).chats).length > 0);
    expect(spread.length).toBeGreaterThan(2);
    expect(carried(roundTrip(mediumPages))).toEqual(carried(medium));
  });

  it("reassembles any permutation of the pages, with duplicates", () => {
    const expected = carried(medium);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...mediumPages.pages], {
          minLength: mediumPages.pages.length,
        }),
        fc.array(fc.nat({ max: mediumPages.pages.length - 1 }), { maxLength: 5 }),
        (order, duplicates) => {
          const pages = [...order, ...duplicates.map((i) => mediumPages.pages[i] as Uint8Array)];
          const assembled = assembleDescription({ header: mediumPages.header, pages });
          expect(assembled.ok).toBe(true);
          if (assembled.ok) {
            expect(carried(stateFromDescription(assembled.description, orgId))).toEqual(expected);
          }
        },
      ),
      { seed, numRuns: 60 },
    );
  });

  it("reports missing pages by index, never guessing", () => {
    const count = mediumPages.pages.length;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: count - 1 }), { minLength: 1, maxLength: count }),
        (dropped) => {
          const pages = mediumPages.pages.filter((_, i) => !dropped.includes(i)).reverse();
          const assembled = assembleDescription({ header: mediumPages.header, pages });
          expect(assembled).toEqual({
            ok: false,
            reason: "missing",
            missing: [...dropped].sort((a, b) => a - b),
          });
        },
      ),
      { seed, numRuns: 100 },
    );
  });

  it("refuses a tampered page", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: mediumPages.pages.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (target, at, mask) => {
          const pages = mediumPages.pages.map((page, i) => {
            if (i !== target) return page;
            const copy = page.slice();
            copy[at % copy.length] = (copy[at % copy.length] as number) ^ mask;
            return copy;
          });
          const assembled = assembleDescription({ header: mediumPages.header, pages });
          expect(assembled).toEqual({ ok: false, reason: "hash-mismatch", refused: [target] });
        },
      ),
      { seed, numRuns: 100 },
    );
  });

  it("refuses a page of another description (an older clock)", () => {
    const older = buildDescriptionPages(
      { ...medium, clock: medium.clock - 1n },
      {
        maxPageBytes: 4 * KiB,
      },
    );
    const pages = [...mediumPages.pages.slice(1), older.pages[0] as Uint8Array];
    expect(assembleDescription({ header: mediumPages.header, pages })).toEqual({
      ok: false,
      reason: "hash-mismatch",
      refused: [pages.length - 1],
    });
  });

  type PageInit = Parameters<typeof encodeDescriptionPage>[0];

  /** A header that lists exactly these pages, as a forger holding the owner key could sign. */
  function forgedPages(
    pages: PageInit[],
    description: OrganizationDescriptionInit = { clock: 7n, chats: { general: {} } },
  ) {
    const encoded = pages.map((page) => encodeDescriptionPage(page));
    const header = encodeDescriptionPage({
      clock: description.clock ?? 0n,
      index: { pageCount: encoded.length, pageHashes: encoded.map(descriptionPageHash) },
      description,
    });
    return assembleDescription({ header, pages: encoded });
  }

  /** {@link forgedPages} of roster pages at their own position. */
  function forged(pages: OrganizationDescriptionInit[], description?: OrganizationDescriptionInit) {
    return forgedPages(
      pages.map((page, pageIndex) => ({ clock: page.clock ?? 0n, pageIndex, description: page })),
      description,
    );
  }

  const [m1, m2, m3] = ["m1", "m2", "m3"].map(memberId).sort() as [string, string, string];

  it("accepts a well-formed forged set (the checks below differ only in one respect)", () => {
    const result = forged([
      { clock: 7n, members: { [m1]: {}, [m2]: {} } },
      { clock: 7n, banList: [m3], chats: { general: { members: { [m1]: {} } } } },
    ]);
    expect(result.ok).toBe(true);
  });

  it.each([
    ["a page of another clock", [{ clock: 8n, members: { [m1]: {} } }]],
    [
      "pages out of order",
      [
        { clock: 7n, members: { [m2]: {} } },
        { clock: 7n, members: { [m1]: {} } },
      ],
    ],
    [
      "a member on two pages",
      [
        { clock: 7n, members: { [m1]: {} } },
        { clock: 7n, members: { [m1]: {}, [m3]: {} } },
      ],
    ],
    [
      "members after bans",
      [
        { clock: 7n, banList: [m1] },
        { clock: 7n, members: { [m2]: {} } },
      ],
    ],
    [
      "a page with identity",
      [{ clock: 7n, members: { [m1]: {} }, identity: { displayName: "x" } }],
    ],
    ["a page with tags", [{ clock: 7n, members: { [m1]: {} }, tags: ["t"] }]],
    [
      "a roster of an unknown channel",
      [{ clock: 7n, chats: { other: { members: { [m1]: {} } } } }],
    ],
    [
      "a roster entry with channel fields",
      [{ clock: 7n, chats: { general: { categoryId: "c", members: { [m1]: {} } } } }],
    ],
    ["an empty page", [{ clock: 7n }]],
  ] satisfies [string, OrganizationDescriptionInit[]][])("finds %s inconsistent", (_, pages) => {
    expect(forged(pages)).toEqual({ ok: false, reason: "inconsistent" });
  });

  it("finds a page listed at another position than its page index inconsistent", () => {
    const first = { clock: 7n, members: { [m1]: {} } };
    const second = { clock: 7n, members: { [m2]: {} } };
    expect(
      forgedPages([
        { clock: 7n, pageIndex: 1, description: first },
        { clock: 7n, pageIndex: 0, description: second },
      ]),
    ).toEqual({ ok: false, reason: "inconsistent" });
  });

  it("finds a header listed as a roster page inconsistent", () => {
    expect(
      forgedPages([{ clock: 7n, index: {}, description: { clock: 7n, members: { [m1]: {} } } }]),
    ).toEqual({ ok: false, reason: "inconsistent" });
  });

  it("finds a header carrying rosters inconsistent", () => {
    expect(forged([], { clock: 7n, members: { [m1]: {} } })).toEqual({
      ok: false,
      reason: "inconsistent",
    });
    expect(forged([], { clock: 7n, banList: [m1] })).toEqual({ ok: false, reason: "inconsistent" });
    expect(forged([], { clock: 7n, chats: { general: { members: { [m1]: {} } } } })).toEqual({
      ok: false,
      reason: "inconsistent",
    });
  });

  it("finds a listed page that does not decode malformed", () => {
    const junk = new Uint8Array([0xff, 0xff, 0xff]);
    const header = encodeDescriptionPage({
      clock: 7n,
      index: { pageCount: 1, pageHashes: [descriptionPageHash(junk)] },
      description: { clock: 7n },
    });
    expect(assembleDescription({ header, pages: [junk] })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });

  // Hand-written protobuf, to make headers that the wire encoder would refuse.
  const varint = (value: number): number[] => {
    const out: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      out.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    out.push(rest);
    return out;
  };
  const lengthDelimited = (field: number, body: ArrayLike<number>): number[] => [
    (field << 3) | 2,
    ...varint(body.length),
    ...Array.from(body),
  ];
  /** A header page with `clock` 7, this index body, and a description of clock 7. */
  const rawHeader = (pageCount: number, hashes: Uint8Array[]) =>
    new Uint8Array([
      0x08,
      7,
      ...lengthDelimited(2, [
        0x08,
        ...varint(pageCount),
        ...hashes.flatMap((h) => lengthDelimited(2, h)),
      ]),
      ...lengthDelimited(4, [0x08, 7]),
    ]);

  it("finds malformed headers malformed", () => {
    const { header, pages } = mediumPages;
    const hashes = headerOf(mediumPages).index.pageHashes;
    const bad: unknown[] = [
      rawHeader(hashes.length + 1, hashes),
      rawHeader(
        hashes.length,
        hashes.map((h) => h.slice(1)),
      ),
      encodeDescriptionPage({
        clock: 7n,
        index: { pageCount: 2, pageHashes: [hashes[0] as Uint8Array, hashes[0] as Uint8Array] },
        description: { clock: 7n },
      }),
      pages[0], // a roster page, not a header
      new Uint8Array([0xff, 0xff, 0xff]),
      header.subarray(0, header.length - 1),
      "header",
      null,
      headerOf(mediumPages), // decoded, not bytes
    ];
    for (const candidate of bad) {
      expect(assembleDescription({ header: candidate as Uint8Array, pages })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
    // The hand-written encoding itself is right: with a valid index it reassembles.
    expect(assembleDescription({ header: rawHeader(0, []), pages: [] }).ok).toBe(true);
    expect(assembleDescription({ header, pages: ["page"] as never })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(assembleDescription({ header, pages: "pages" as never })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });

  it("never throws on any input", () => {
    const headerBytes = fc.oneof(
      fc.constant(mediumPages.header),
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => {
        const copy = mediumPages.header.slice();
        copy[at % copy.length] = (copy[at % copy.length] as number) ^ mask;
        return copy;
      }),
    );
    const pieces = fc.oneof(
      anyValue(),
      fc.record({
        header: fc.oneof(anyValue(), headerBytes),
        pages: fc.oneof(
          fc.array(fc.uint8Array({ maxLength: 64 })),
          fc.shuffledSubarray([...mediumPages.pages]),
          fc.array(anyValue(), { maxLength: 3 }),
          anyValue(),
        ),
      }),
    );
    fc.assert(
      fc.property(pieces, (value) => {
        const result = assembleDescription(value as never);
        expect(typeof result.ok).toBe("boolean");
      }),
      { seed, numRuns: 2000 },
    );
  });
});

describe("sealDescriptionPages / openDescriptionPages", () => {
  const smallPages = buildDescriptionPages(small);
  const contentTopic = descriptionTopic(organizationKey.publicKey);

  it("refuses to seal with another key than the organization's, or pages that are not pages", async () => {
    await expect(
      sealDescriptionPages({ pages: smallPages, organizationId: orgId, signer: ed25519Key(0x02) }),
    ).rejects.toThrow(RangeError);
    await expect(
      sealDescriptionPages({
        pages: { header: new Uint8Array([0xff]), pages: [] },
        organizationId: orgId,
        signer: organizationKey,
      }),
    ).rejects.toThrow(RangeError);
    await expect(
      sealDescriptionPages({ pages: smallPages, organizationId: "0x12", signer: organizationKey }),
    ).rejects.toThrow(RangeError);
  });

  it("picks the newest header and leaves older descriptions' pages out", async () => {
    const newer = buildDescriptionPages({ ...small, clock: small.clock + 5n });
    const [oldSealed, newSealed] = await Promise.all(
      [smallPages, newer].map((pages) =>
        sealDescriptionPages({ pages, organizationId: orgId, signer: organizationKey }),
      ),
    );
    if (oldSealed === undefined || newSealed === undefined) throw new Error("sealing failed");
    const envelopes = [
      oldSealed.header,
      ...newSealed.pages,
      ...oldSealed.pages,
      newSealed.header,
      newSealed.header,
    ];
    const opened = await openDescriptionPages(envelopes, { organizationId: orgId, verify });
    expect(opened.header).toEqual(newer.header);
    expect(opened.headerPage?.clock).toBe(small.clock + 5n);
    expect(opened.pages).toEqual(newer.pages);
    expect(opened.unlisted).toEqual([0, 1 + newSealed.pages.length]);
    expect(opened.refused).toEqual([]);
    const assembled = assembleDescription({ header: newer.header, pages: opened.pages });
    expect(assembled.ok).toBe(true);
  });

  it("reports roster pages without a header as unlisted", async () => {
    const sealed = await sealDescriptionPages({
      pages: smallPages,
      organizationId: orgId,
      signer: organizationKey,
    });
    const opened = await openDescriptionPages(sealed.pages, { organizationId: orgId, verify });
    expect(opened).toEqual({
      header: undefined,
      headerPage: undefined,
      pages: [],
      unlisted: sealed.pages.map((_, i) => i),
      refused: [],
    });
  });

  it("refuses forged, foreign and off-type envelopes with the error's name", async () => {
    const sealed = await sealDescriptionPages({
      pages: smallPages,
      organizationId: orgId,
      signer: organizationKey,
    });
    const forgedSignature = sealed.header.slice();
    forgedSignature[forgedSignature.length - 1] = (forgedSignature.at(-1) as number) ^ 0x01;
    const other = ed25519Key(0x03);
    const foreign = await sealEnvelope(
      {
        type: "description-page",
        organizationId: other.publicKey,
        clock: small.clock,
        contentTopic,
        message: decodeDescriptionPage(smallPages.header),
      },
      other,
    );
    const unpaged = await sealEnvelope(
      {
        type: "organization-description",
        organizationId: organizationKey.publicKey,
        clock: 3n,
        contentTopic,
        message: { clock: 3n },
      },
      organizationKey,
    );
    const opened = await openDescriptionPages(
      [forgedSignature, foreign, unpaged, new Uint8Array([1, 2, 3]), sealed.header],
      { organizationId: orgId, verify },
    );
    expect(opened.refused).toEqual([
      { position: 0, error: "InvalidSignatureError" },
      { position: 1, error: "EnvelopeMismatchError" },
      { position: 2, error: "EnvelopeMismatchError" },
      { position: 3, error: "DecodeError" },
    ]);
    expect(opened.header).toEqual(smallPages.header);
  });

  it("refuses a bad organization id or a non-array with a programming error", async () => {
    await expect(openDescriptionPages([], { organizationId: "0x12", verify })).rejects.toThrow(
      RangeError,
    );
    await expect(
      openDescriptionPages(["envelope"] as never, { organizationId: orgId, verify }),
    ).rejects.toThrow(TypeError);
  });
});
