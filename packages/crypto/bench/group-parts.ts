/**
 * `pnpm --filter @orgchat/crypto bench:parts [-- --json] [-- --quick]`
 *
 * Bytes a commit writes for one group, before (the whole state, `serialize()`, which the client
 * rewrote at every commit touching the group) and after (`takeParts()`: the head when it changed,
 * the changed member records), for a send, a receive, an add of 1 and of 200 joiners and a removal,
 * at N = 1,000 and 10,000 members; then the time to restore the owner at N from its parts (and from
 * the whole state), and how the head grows with the epochs retained (one add per epoch, all inside
 * the 24-hour retention window). Byte counts are the crypto's own; the client's vault adds 28 bytes
 * per sealed record.
 */
import { performance } from "node:perf_hooks";
import { toHex } from "@orgchat/base";
import type { GroupParts } from "../src/group-parts.js";
import type { Roster } from "../src/key-schedule.js";
import { MemberGroup } from "../src/member-group.js";
import { type Joiner, OwnerGroup } from "../src/owner-group.js";
import { nodeProvider } from "../src/providers/node.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const provider = nodeProvider();
const sizes = quick ? [100, 300] : [1_000, 10_000];

interface Row {
  readonly members: number;
  readonly operation: string;
  /** Bytes `serialize()` writes for the same commit. */
  readonly wholeBytes: number;
  /** Bytes `takeParts()` writes (head when changed + member records). */
  readonly partsBytes: number;
  readonly headBytes: number;
  readonly records: number;
}

const bytesOf = (parts: GroupParts) =>
  (parts.headChanged ? parts.head.length : 0) +
  parts.members.reduce((sum, [, record]) => sum + (record?.length ?? 0), 0) +
  parts.epochs.reduce((sum, [, record]) => sum + (record?.length ?? 0), 0);

function joinerSet(count: number): { joiners: Joiner[]; secrets: Uint8Array[] } {
  const joiners: Joiner[] = [];
  const secrets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const signing = provider.ed25519KeyPair();
    const prekey = provider.x25519KeyPair();
    secrets.push(signing.secretKey, prekey.secretKey);
    joiners.push({
      leaf: {
        identityKey: provider.randomBytes(32),
        signingKey: signing.publicKey,
        prekey: prekey.publicKey,
      },
      leafSecret: provider.randomBytes(32),
    });
  }
  return { joiners, secrets };
}

function ownerWith(members: number) {
  const signing = provider.ed25519KeyPair();
  const owner = OwnerGroup.create({
    provider,
    group: { organizationId: provider.randomBytes(32), channelId: "" },
    ownLeaf: {
      identityKey: provider.randomBytes(32),
      signingKey: signing.publicKey,
      prekey: provider.x25519KeyPair().publicKey,
    },
    signingSecretKey: signing.secretKey,
    now: 0,
  });
  const rosters = new Map<string, Roster>([[toHex(owner.keyId), owner.roster]]);
  const { joiners, secrets } = joinerSet(members);
  const added = owner.add(joiners, 1);
  rosters.set(toHex(added.keyId), added.roster);
  const first = added.welcomes[0];
  if (first === undefined) throw new Error("no joiner");
  const member = MemberGroup.fromWelcome({
    provider,
    welcome: first.welcome,
    roster: added.roster,
    signingSecretKey: secrets[0] as Uint8Array,
    prekeySecret: secrets[1] as Uint8Array,
    now: 1,
  });
  owner.takeParts();
  return { owner, member, rosters };
}

const rows: Row[] = [];
const restores: Array<{ members: number; partsMs: number; wholeMs: number }> = [];
const growth: Array<{
  members: number;
  epochsRetained: number;
  headBytes: number;
  admissionBytes: number;
}> = [];

for (const members of sizes) {
  const { owner, member, rosters } = ownerWith(members);
  const row = (operation: string, parts: GroupParts) =>
    rows.push({
      members,
      operation,
      wholeBytes: owner.serialize().length,
      partsBytes: bytesOf(parts),
      headBytes: parts.head.length,
      records: parts.members.length,
    });
  // A send, amortized over one reservation (the head is written once per 64 sends).
  let sendBytes = 0;
  let last: GroupParts | undefined;
  for (let i = 0; i < 64; i++) {
    owner.encrypt({ contentType: 1, content: new Uint8Array(256) });
    last = owner.takeParts();
    sendBytes += bytesOf(last);
  }
  rows.push({
    members,
    operation: "send (mean of 64)",
    wholeBytes: owner.serialize().length,
    partsBytes: Math.round(sendBytes / 64),
    headBytes: (last as GroupParts).head.length,
    records: 0,
  });
  owner.decrypt(member.encrypt({ contentType: 1, content: new Uint8Array(256) }), 2);
  row("receive", owner.takeParts());
  const one = joinerSet(1);
  const addOne = owner.add(one.joiners, 3);
  rosters.set(toHex(addOne.keyId), addOne.roster);
  row("add 1 joiner", owner.takeParts());
  const many = joinerSet(200);
  const addMany = owner.add(many.joiners, 4);
  rosters.set(toHex(addMany.keyId), addMany.roster);
  row("add 200 joiners", owner.takeParts());
  const removal = owner.remove([2], 5);
  rosters.set(toHex(removal.keyId), removal.roster);
  row("remove 1", owner.takeParts());

  // Restore: from the parts (head + every record), and from the whole state.
  const all = owner.takeParts({ all: true });
  const records = all.members.map(([leaf, record]) => [leaf, record as Uint8Array] as const);
  const epochRecords = all.epochs.map(([id, record]) => [id, record as Uint8Array] as const);
  const whole = owner.serialize();
  const lookup = (keyIdHex: string) => rosters.get(keyIdHex);
  const time = (run: () => unknown) => {
    const samples: number[] = [];
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      const start = performance.now();
      run();
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)] as number;
  };
  restores.push({
    members,
    partsMs: time(() =>
      OwnerGroup.restore(provider, {
        head: all.head,
        members: records,
        epochs: epochRecords,
        roster: lookup,
      }),
    ),
    wholeMs: time(() => OwnerGroup.deserialize(provider, whole)),
  });

  // An admission with many epochs retained: one add per epoch, all inside the 24-hour window.
  for (const epochs of quick ? [8] : [8, 32, 128]) {
    while (owner.heldEpochs().length < epochs) {
      const next = owner.add(joinerSet(1).joiners, 6);
      rosters.set(toHex(next.keyId), next.roster);
    }
    owner.takeParts();
    const next = owner.add(joinerSet(1).joiners, 6);
    rosters.set(toHex(next.keyId), next.roster);
    const parts = owner.takeParts();
    growth.push({
      members,
      epochsRetained: owner.heldEpochs().length - 1,
      headBytes: parts.head.length,
      admissionBytes: bytesOf(parts),
    });
  }
}

if (json) {
  console.log(JSON.stringify({ rows, restores, growth }, null, 2));
} else {
  console.log("@orgchat/crypto: bytes a commit writes for one group (whole state vs parts)\n");
  console.log("members  operation            whole state   parts (head + records)  head   records");
  for (const r of rows) {
    console.log(
      `${String(r.members).padStart(7)}  ${r.operation.padEnd(19)}  ${String(r.wholeBytes).padStart(11)}  ${String(r.partsBytes).padStart(22)}  ${String(r.headBytes).padStart(5)}  ${String(r.records).padStart(7)}`,
    );
  }
  console.log("\nrestore of the owner (median ms): parts vs whole state");
  for (const r of restores) {
    console.log(
      `${String(r.members).padStart(7)}  parts ${r.partsMs.toFixed(1)} ms   whole ${r.wholeMs.toFixed(1)} ms`,
    );
  }
  console.log(
    "\nan admission with many epochs retained (one add per epoch inside the 24 h window)",
  );
  for (const g of growth) {
    console.log(
      `${String(g.members).padStart(7)}  ${String(g.epochsRetained).padStart(3)} retained  head ${g.headBytes} B  admission writes ${g.admissionBytes} B`,
    );
  }
}
