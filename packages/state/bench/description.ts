/**
 * Benchmark of the paged description (issue 5, "Benchmarks"): a 10,000-member organization's
 * description built and encoded into `DescriptionPage`s, then decoded, reassembled and read back
 * into a state. Goal: ≤ 200 ms each way. Sealing the pages in envelopes and opening them again is
 * measured too, with a constant signature and an accept-all verifier: the signature algorithm is
 * injected, so its cost (one Ed25519 sign or verify per page) is not ours to measure here.
 *
 * The floor is plain `@orgchat/wire` encoding and decoding of the same page messages, without our
 * bookkeeping (sorting, packing, hashing, order checks, building the state); the ratio says what
 * that bookkeeping costs on top.
 *
 * Run alone: `tsx --conditions=@orgchat/source bench/description.ts [--json]`, or through
 * `bench/run.ts` with `benchDescription(json)`. Benchmarks print numbers; tests never assert them.
 */

import { pathToFileURL } from "node:url";
import {
  decodeDescriptionPage,
  type EnvelopeSigner,
  encodeDescriptionPage,
  publicKeyFromMemberId,
  wireLimits,
} from "@orgchat/wire";
import { Map as ImmutableMap, List } from "immutable";
import {
  assembleDescription,
  buildDescriptionPages,
  descriptionPageHash,
  openDescriptionPages,
  sealDescriptionPages,
  stateFromDescription,
} from "../src/description/index.js";
import type { Role } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import type { Ban, Channel, Member, OrgState } from "../src/state.js";

/** What {@link benchDescription} measures (times are medians, in milliseconds). */
export interface DescriptionBenchFigures {
  readonly members: number;
  readonly iterations: number;
  /** Roster pages (the header page comes on top). */
  readonly pages: number;
  /** The encoded header page (`DescriptionPage` with the index). */
  readonly headerBytes: number;
  /** Encoded roster pages. */
  readonly pageBytes: { readonly min: number; readonly max: number; readonly mean: number };
  /** Largest sealed envelope (header or roster page); the cap is 153,600. */
  readonly sealedMaxBytes: number;
  /** State → header + encoded pages (`buildDescriptionPages`). */
  readonly buildMs: number;
  /** Pages → reassembled description → state (`assembleDescription` + `stateFromDescription`). */
  readonly readMs: number;
  /** Pages → signed envelopes (`sealDescriptionPages`), signature excluded. */
  readonly sealMs: number;
  /** Envelopes → header + listed pages (`openDescriptionPages`), verification excluded. */
  readonly openMs: number;
  /** `encodeDescriptionPage` of the same page messages, already built. */
  readonly floorEncodeMs: number;
  /** `decodeDescriptionPage` of the same page bytes. */
  readonly floorDecodeMs: number;
  readonly buildRatio: number;
  readonly readRatio: number;
  readonly goalMs: number;
}

/** Options of {@link benchDescription}. */
export interface DescriptionBenchInit {
  /** @default 10_000 */
  readonly members?: number;
  /** Timed runs per figure, after three warm-up runs. @default 15 */
  readonly iterations?: number;
}

const encoder = new TextEncoder();

function memberId(label: string): string {
  return Array.from(descriptionPageHash(encoder.encode(label)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

const roleCycle: Role[][] = [[], [], [], [], [], [], ["moderate-content"], ["manage-users"]];

/** A realistic large organization: members with some roles, bans, a staff and a private channel. */
export function benchOrganization(memberCount: number): OrgState {
  const organizationId = memberId("organization");
  const ids = Array.from({ length: memberCount }, (_, i) => memberId(`member-${i}`));
  const members = ImmutableMap<string, Member>().withMutations((map) => {
    map.set(organizationId, {
      id: organizationId,
      roles: List<Role>(["all"]),
      joinedAt: 1n,
      displayName: "",
    });
    ids.forEach((id, i) => {
      const roles = List(roleCycle[i % roleCycle.length]);
      map.set(id, { id, roles, joinedAt: BigInt(i), displayName: `Member ${i}` });
    });
  });
  const banned = ImmutableMap<string, Ban>().withMutations((map) => {
    for (let i = 0; i < memberCount / 50; i++) {
      const id = memberId(`banned-${i}`);
      map.set(id, { member: id, clock: BigInt(i), deleteMessages: false });
    }
  });
  const identity = { displayName: "Bench", description: "", ensName: "", images: {} };
  const channel = (id: string, rosterSize: number): Channel => ({
    id,
    identity: { ...identity, displayName: id },
    permissions: { access: "invitation-only", ensOnly: false, private: rosterSize > 0 },
    categoryId: "",
    members: ImmutableMap(ids.slice(0, rosterSize).map((m) => [m, List<Role>()] as const)),
  });
  return {
    ...initialState(organizationId),
    created: true,
    clock: 123_456n,
    identity,
    permissions: { access: "on-request", ensOnly: false, private: false },
    pinMessageAllMembersEnabled: false,
    tags: List(["bench"]),
    encrypted: true,
    members,
    banned,
    channels: ImmutableMap([
      ["general", channel("general", 0)],
      ["staff", channel("staff", 20)],
      ["private", channel("private", Math.floor(memberCount / 10))],
    ]),
  };
}

function median(run: () => void, iterations: number): number {
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function medianAsync(run: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * Measures the paged description of a large organization and prints the figures (one JSON line
 * with `json`, else a short table).
 *
 * @param json - print one JSON object instead of text
 * @param init - organization size and runs
 * @returns the figures
 */
export async function benchDescription(
  json: boolean,
  init?: DescriptionBenchInit,
): Promise<DescriptionBenchFigures> {
  const memberCount = init?.members ?? 10_000;
  const iterations = init?.iterations ?? 15;
  const state = benchOrganization(memberCount);
  const built = buildDescriptionPages(state);
  const messages = built.pages.map((page) => decodeDescriptionPage(page));
  const organizationId = state.organizationId;
  // Constant signature, accept-all verifier: the injected signature algorithm is not measured.
  const signer: EnvelopeSigner = {
    scheme: "ed25519",
    publicKey: publicKeyFromMemberId(organizationId),
    sign: () => new Uint8Array(wireLimits.signatureBytes).fill(0xab),
  };
  const verify = () => true;
  const sealed = await sealDescriptionPages({ pages: built, organizationId, signer });
  const envelopes = [sealed.header, ...sealed.pages];

  const buildMs = median(() => buildDescriptionPages(state), iterations);
  const readMs = median(() => {
    const assembled = assembleDescription(built);
    if (!assembled.ok) throw new Error(`bench: assembly failed (${assembled.reason})`);
    stateFromDescription(assembled.description, organizationId);
  }, iterations);
  const sealMs = await medianAsync(
    () => sealDescriptionPages({ pages: built, organizationId, signer }),
    iterations,
  );
  const openMs = await medianAsync(async () => {
    const opened = await openDescriptionPages(envelopes, { organizationId, verify });
    if (opened.pages.length !== built.pages.length) throw new Error("bench: pages not opened");
  }, iterations);
  const floorEncodeMs = median(() => {
    for (const message of messages) encodeDescriptionPage(message);
  }, iterations);
  const floorDecodeMs = median(() => {
    for (const page of built.pages) decodeDescriptionPage(page);
  }, iterations);

  const sizes = built.pages.map((page) => page.length);
  const figures: DescriptionBenchFigures = {
    members: memberCount,
    iterations,
    pages: built.pages.length,
    headerBytes: built.header.length,
    pageBytes: {
      min: Math.min(...sizes),
      max: Math.max(...sizes),
      mean: Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)),
    },
    sealedMaxBytes: Math.max(...envelopes.map((envelope) => envelope.length)),
    buildMs: round(buildMs),
    readMs: round(readMs),
    sealMs: round(sealMs),
    openMs: round(openMs),
    floorEncodeMs: round(floorEncodeMs),
    floorDecodeMs: round(floorDecodeMs),
    buildRatio: round(buildMs / floorEncodeMs),
    readRatio: round(readMs / floorDecodeMs),
    goalMs: 200,
  };

  if (json) {
    console.log(JSON.stringify({ bench: "description", ...figures }));
  } else {
    const { pageBytes } = figures;
    console.log(`description pages, ${memberCount} members (median of ${iterations})`);
    console.log(
      `  ${figures.pages} roster pages, ${pageBytes.min}-${pageBytes.max} bytes (mean ${pageBytes.mean}); header ${figures.headerBytes} bytes; largest envelope ${figures.sealedMaxBytes} bytes`,
    );
    console.log(
      `  build + encode             ${figures.buildMs} ms   (floor ${figures.floorEncodeMs} ms, ×${figures.buildRatio})`,
    );
    console.log(
      `  decode + assemble + state  ${figures.readMs} ms   (floor ${figures.floorDecodeMs} ms, ×${figures.readRatio})`,
    );
    console.log(`  seal (signature excluded)  ${figures.sealMs} ms`);
    console.log(`  open (verification excl.)  ${figures.openMs} ms`);
    console.log(`  goal ≤ ${figures.goalMs} ms each way`);
  }
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchDescription(process.argv.includes("--json"));
}
