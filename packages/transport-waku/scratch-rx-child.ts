import { wakuRelayTransport } from "./src/index.js";
const topic = "/org-chat/1/rx/proto";
const peers = process.argv.slice(2);
const bob = wakuRelayTransport({ mode: "relay", peers });
const statuses: string[] = [];
bob.on("status:changed", ({ status }) => statuses.push(status));
bob.on("diagnostic", (d: any) => statuses.push("diag:" + d.reason));
await bob.start();
let got = 0;
await bob.subscribe([topic], () => { got++; });
setInterval(() => {
  const gs = (bob as any).relay?.gossipSub;
  const lp = (bob as any).session?.libp2p;
  console.log(JSON.stringify({ t: Date.now(), got, status: bob.status, statuses: statuses.splice(0), peers: gs ? [...gs.peers.keys()].map((k: string) => k.slice(-4)) : [], out: gs ? [...gs.streamsOutbound.keys()].map((k: string) => k.slice(-4)) : [], inb: gs ? [...gs.streamsInbound.keys()].map((k: string) => k.slice(-4)) : [], topicPeers: gs ? [...(gs.topics.get("/waku/2/rs/55/0") ?? [])].map((k: string) => k.slice(-4)) : [], mesh: gs ? [...(gs.mesh.get("/waku/2/rs/55/0") ?? [])].map((k: string) => k.slice(-4)) : [], conns: lp ? lp.getConnections().map((c: any) => c.remotePeer.toString().slice(-4) + ":" + c.status) : [] }));
}, 1000);
