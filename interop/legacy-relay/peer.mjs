#!/usr/bin/env node
// An official js-waku relay node (`createRelayNode` from @waku/sdk 0.0.27 with @waku/relay 0.0.14,
// libp2p 1.x) driven over stdio, for interop tests against @orgchat/transport-waku's relay.
//
// Usage: node peer.mjs [--cluster 55] [--content-topic /app/1/name/proto]... [--shard N]
//                      [--listen /ip4/127.0.0.1/tcp/0/ws]...
// (or LEGACY_CLUSTER, LEGACY_CONTENT_TOPICS (comma separated), LEGACY_SHARD, LEGACY_LISTEN).
// Without --shard the network is auto-sharded (8 shards, the shard follows from the content topic);
// with --shard it is statically sharded on that shard.
//
// stdout, one JSON object per line:
//   {"event":"ready","peerId","multiaddrs":[...],"pubsubTopic","contentTopics":[...],"versions":{...}}
//   {"event":"message","pubsubTopic","contentTopic","payloadHex","timestamp","hash"}   (received)
//   {"event":"published","ref","recipients"} | {"event":"peers","ref","mesh":[...]}
//   {"event":"error","ref","message"}
//   {"event":"stopped"}
// stdin, one JSON command per line:
//   {"cmd":"publish","ref":1,"contentTopic":"/…","payloadHex":"…"}
//   {"cmd":"wait-peers","ref":2,"timeoutMs":10000}   (until the pubsub topic has a mesh peer)
// The other side dials this node (only WebSocket: the only transport of that SDK).
// It exits 0 after SIGTERM, SIGINT or the end of stdin, once the node has stopped.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createDecoder, createEncoder } from "@waku/sdk";
import { createRelayNode } from "@waku/sdk/relay";

const args = process.argv.slice(2);
const option = (name) => {
  const values = [];
  for (let i = 0; i < args.length; i++) if (args[i] === `--${name}`) values.push(args[i + 1]);
  return values;
};
const clusterId = Number(option("cluster")[0] ?? process.env.LEGACY_CLUSTER ?? 55);
const shardText = option("shard")[0] ?? process.env.LEGACY_SHARD;
const contentTopics = option("content-topic").length
  ? option("content-topic")
  : (process.env.LEGACY_CONTENT_TOPICS ?? "/org-chat/1/interop/proto").split(",");
const listen = option("listen").length
  ? option("listen")
  : [process.env.LEGACY_LISTEN ?? "/ip4/127.0.0.1/tcp/0/ws"];

const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
const hex = (bytes) => Buffer.from(bytes).toString("hex");

const networkConfig =
  shardText === undefined
    ? { clusterId, contentTopics }
    : { clusterId, shards: [Number(shardText)] };

const node = await createRelayNode({
  networkConfig,
  defaultBootstrap: false,
  libp2p: {
    addresses: { listen },
    filterMultiaddrs: false,
    hideWebSocketInfo: true,
  },
});
await node.start();
const pubsubTopics = [...node.relay.pubsubTopics];
const pubsubTopic = pubsubTopics[0];

// The 14/WAKU2-MESSAGE deterministic hash, computed here independently of either js-waku version.
function messageHash(topic, message) {
  const hash = createHash("sha256");
  hash.update(Buffer.from(topic, "utf8"));
  hash.update(message.payload);
  hash.update(Buffer.from(message.contentTopic, "utf8"));
  if (message.meta) hash.update(message.meta);
  if (message.timestamp) {
    const timestamp = Buffer.alloc(8);
    timestamp.writeBigUInt64BE(BigInt(message.timestamp));
    hash.update(timestamp);
  }
  return hash.digest("hex");
}

node.relay.subscribe(
  contentTopics.map((contentTopic) => createDecoder(contentTopic, pubsubTopic)),
  (message) => {
    const proto = message.proto;
    print({
      event: "message",
      pubsubTopic: message.pubsubTopic,
      contentTopic: message.contentTopic,
      payloadHex: hex(message.payload),
      timestamp: message.timestamp?.getTime() ?? 0,
      hash: messageHash(message.pubsubTopic, proto),
    });
  },
);

const version = (name) =>
  JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, import.meta.url), "utf8"))
    .version;
print({
  event: "ready",
  peerId: node.libp2p.peerId.toString(),
  multiaddrs: node.libp2p.getMultiaddrs().map(String),
  pubsubTopic,
  pubsubTopics,
  contentTopics,
  versions: {
    "@waku/sdk": version("@waku/sdk"),
    "@waku/relay": version("@waku/relay"),
    libp2p: version("libp2p"),
    "@chainsafe/libp2p-gossipsub": version("@chainsafe/libp2p-gossipsub"),
  },
});

async function run(command) {
  const { cmd, ref } = command;
  try {
    if (cmd === "publish") {
      const encoder = createEncoder({ contentTopic: command.contentTopic, pubsubTopic });
      const result = await node.relay.send(encoder, {
        payload: Buffer.from(command.payloadHex, "hex"),
      });
      if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures));
      print({ event: "published", ref, recipients: result.successes.length });
    } else if (cmd === "wait-peers") {
      const deadline = Date.now() + (command.timeoutMs ?? 10_000);
      while (node.relay.getMeshPeers(pubsubTopic).length === 0) {
        if (Date.now() > deadline) throw new Error(`no mesh peer on ${pubsubTopic}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      print({ event: "peers", ref, mesh: node.relay.getMeshPeers(pubsubTopic) });
    } else {
      throw new Error(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (error) {
    print({ event: "error", ref, message: error instanceof Error ? error.message : String(error) });
  }
}

let stopping;
function stop() {
  stopping ??= (async () => {
    await node.stop();
    print({ event: "stopped" });
    process.exit(0);
  })();
  return stopping;
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    print({ event: "error", message: `not JSON: ${line.slice(0, 80)}` });
    return;
  }
  void run(command);
});
lines.on("close", stop);
