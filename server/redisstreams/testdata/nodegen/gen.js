// Records what Node's @socket.io/redis-streams-adapter writes to Redis:
// stream entries (broadcasts, socketsJoin/Leave, disconnectSockets), a
// persisted session, and the pub/sub messages (serverSideEmit,
// fetchSockets, a broadcast with acknowledgements), into
// ../golden/node.json. Run with a Redis at REDIS_URL (default
// redis://127.0.0.1:6379): npm ci && npm run gen
"use strict";
const fs = require("fs");
const path = require("path");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-streams-adapter");

const url = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const name = "feedrt-golden-" + Date.now();
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const client = createClient({ url });
  const sub = client.duplicate();
  await Promise.all([client.connect(), sub.connect()]);
  const published = [];
  await sub.subscribe(`${name}#/#`, (msg) => published.push(msg.toString("base64")), true);

  const io = new Server({ connectionStateRecovery: {} });
  io.adapter(createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: name + ":session:" }));
  await wait(300);

  io.emit("posts", { action: "create", post: { _id: "65a1", title: "Q&A <b>", n: 1.5, big: 2 ** 53, neg: -7, ok: true, none: null } });
  io.to("red").emit("room", 1);
  io.except("red").emit("except", [1, "two"]);
  io.to(["red", "blue"]).except("green").emit("rooms", "x");
  io.emit("binary", Buffer.from([1, 2, 3]), { nested: Buffer.from("hi") });
  io.volatile.emit("volatile", 1);
  io.compress(false).emit("compress", 1);
  io.in("red").socketsJoin(["blue", "green"]);
  io.in("red").socketsLeave("blue");
  io.in("green").disconnectSockets(true);
  io.of("/").adapter.persistSession({ sid: "sid1", pid: "pid1", rooms: ["sid1", "red"], data: { user: "u1", n: 2 } });
  io.serverSideEmit("hello", "world", 1);
  io.timeout(200).emit("with-ack", 1, () => {});
  io.timeout(200).fetchSockets().catch(() => {});
  await wait(500);

  const entries = (await client.xRange(name, "-", "+")).map((e) => e.message);
  const session = await client.get(name + ":session:pid1");
  fs.writeFileSync(
    path.join(__dirname, "..", "golden", "node.json"),
    JSON.stringify({ entries, session, published }, null, 2) + "\n",
  );
  io.of("/").adapter.close();
  await client.del([name, name + ":session:pid1"]);
  await Promise.all([client.quit(), sub.quit()]).catch(() => {});
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
