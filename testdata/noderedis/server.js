// A Node socket.io server on @socket.io/redis-adapter (pub/sub) or, with
// REDIS_ADAPTER=streams, on @socket.io/redis-streams-adapter with
// connection state recovery, driven by the Go cluster tests
// (server/cluster_*_test.go), one JSON object per line.
//
//   REDIS_URL=redis://127.0.0.1:6379/0 KEY=socket.io PORT=0 node server.js
//   REDIS_ADAPTER=streams REDIS_STREAM_NAME=socket.io \
//     REDIS_SESSION_KEY_PREFIX=sio:session: REDIS_STREAM_MAXLEN=10000 \
//     REDIS_URL=... KEY=socket.io PORT=0 node server.js
//
// REDIS_ADAPTER=sharded gives createShardedAdapter (Redis 7 sharded
// Pub/Sub) with SUBSCRIPTION_MODE (static, dynamic, dynamic-private;
// default dynamic) and KEY as channelPrefix, on a node-redis cluster
// client of REDIS_CLUSTER_NODES (host:port,host:port,...) when it is set,
// else on REDIS_URL.
//
// PARSER=msgpack gives the server socket.io-msgpack-parser (the Go
// server's SOCKETIO_PARSER=msgpack).
//
// The environment names are the Go server's; KEY is the pub/sub adapter's
// key, and the streams adapter's channelPrefix (its pub/sub channels for
// fetchSockets, serverSideEmit and emits with acknowledgements).
//
// stdout:  {"ev":"listening","port":N}
//          {"ev":"connection","id":..,"recovered":bool}  a client connected
//          {"ev":"serverSideEmit","name":..,"args":[...]}  from another server
//          {"ev":"result","id":N,"value":..}     the answer to a command with an id
//          {"ev":"redisError","name":"pub"|"sub","message":..}  a Redis client's error
//                 (also on stderr, once per message)
//          {"ev":"error","id":N,"message":..}
// stdin:   {"op":"emit","event":E,"args":[...],"rooms":[...],"except":[...]}
//          {"op":"emitWithAck","id":N,"event":E,"args":[...],"rooms":[...],"timeout":ms}
//          {"op":"fetchSockets","id":N,"rooms":[...],"except":[...]}
//          {"op":"socketsJoin"|"socketsLeave","rooms":[...],"except":[...],"target":[...]}
//          {"op":"disconnectSockets","rooms":[...],"close":bool}
//          {"op":"serverSideEmit","event":E,"args":[...],"ack":bool,"id":N}
//          {"op":"allRooms","id":N}  {"op":"serverCount","id":N}
//          {"op":"uid","id":N}  the adapter's uid (it names its answer channel)
//          {"op":"join","sid":S,"rooms":[...]}   a local socket joins rooms
// A server-side emit whose last argument is an acknowledgement is answered
// with {"from":"node","args":[...]}.
// Binary values travel as {"$bin":"<base64>"} in both directions.
'use strict';

const http = require('http');
const readline = require('readline');
const { Server } = require('socket.io');
const { createClient, createCluster } = require('redis');
const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
const { createAdapter: createStreamsAdapter } = require('@socket.io/redis-streams-adapter');

const { toJSON, fromJSON } = require('../jsonbin.js');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// onRedisError reports a Redis client's errors: each as an event, each
// message once on stderr (a client that cannot resubscribe retries,
// and fails, every half second).
function onRedisError(name) {
  const logged = new Set();
  return (e) => {
    out({ ev: 'redisError', name, message: e.message });
    if (!logged.has(e.message)) {
      logged.add(e.message);
      process.stderr.write(`redis ${name}: ${e.message}\n`);
    }
  };
}

async function main() {
  const key = process.env.KEY || 'socket.io';
  const pub = process.env.REDIS_CLUSTER_NODES
    ? createCluster({ rootNodes: process.env.REDIS_CLUSTER_NODES.split(',').map((a) => ({ url: `redis://${a}` })) })
    : createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
  pub.on('error', onRedisError('pub'));
  const options = { cors: { origin: '*' } };
  if (process.env.PARSER === 'msgpack') options.parser = require('socket.io-msgpack-parser');
  if (process.env.REDIS_ADAPTER === 'sharded') {
    const sub = pub.duplicate();
    sub.on('error', onRedisError('sub'));
    await Promise.all([pub.connect(), sub.connect()]);
    options.adapter = createShardedAdapter(pub, sub, {
      channelPrefix: key,
      subscriptionMode: process.env.SUBSCRIPTION_MODE || 'dynamic',
    });
  } else if (process.env.REDIS_ADAPTER === 'streams') {
    // The Go server's defaults, written out: the adapter's own are the same.
    await pub.connect();
    options.adapter = createStreamsAdapter(pub, {
      streamName: process.env.REDIS_STREAM_NAME || 'socket.io',
      sessionKeyPrefix: process.env.REDIS_SESSION_KEY_PREFIX || 'sio:session:',
      maxLen: Number(process.env.REDIS_STREAM_MAXLEN || 10000),
      channelPrefix: key,
    });
    options.connectionStateRecovery = { maxDisconnectionDuration: 2 * 60 * 1000 };
  } else {
    const sub = pub.duplicate();
    sub.on('error', onRedisError('sub'));
    await Promise.all([pub.connect(), sub.connect()]);
    options.adapter = createAdapter(pub, sub, { key, requestsTimeout: 3000 });
  }

  const httpServer = http.createServer();
  const io = new Server(httpServer, options);
  io.on('connection', (socket) => {
    if (!socket.recovered) socket.data = { server: 'node', n: 1 };
    out({ ev: 'connection', id: socket.id, recovered: !!socket.recovered });
  });
  // Every server-side event from the other servers is reported; one whose
  // last argument is a function is acknowledged.
  const nsp = io.of('/');
  const origOnServerSideEmit = nsp._onServerSideEmit.bind(nsp);
  nsp._onServerSideEmit = (args) => {
    const [name, ...rest] = args;
    const ack = typeof rest[rest.length - 1] === 'function' ? rest.pop() : null;
    out({ ev: 'serverSideEmit', name, args: toJSON(rest) });
    if (ack) ack({ from: 'node', args: toJSON(rest) });
    origOnServerSideEmit([name, ...rest]);
  };

  const target = (cmd) => {
    let op = io;
    if (cmd.rooms && cmd.rooms.length) op = op.in(cmd.rooms);
    if (cmd.except && cmd.except.length) op = op.except(cmd.except);
    return op;
  };

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      out({ ev: 'error', message: `bad command: ${e.message}` });
      return;
    }
    try {
      switch (cmd.op) {
        case 'emit':
          target(cmd).emit(cmd.event, ...fromJSON(cmd.args || []));
          break;
        case 'emitWithAck': {
          const replies = await target(cmd).timeout(cmd.timeout || 3000).emitWithAck(cmd.event, ...fromJSON(cmd.args || []));
          out({ ev: 'result', id: cmd.id, value: toJSON(replies) });
          break;
        }
        case 'fetchSockets': {
          const sockets = await target(cmd).fetchSockets();
          out({ ev: 'result', id: cmd.id, value: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake })) });
          break;
        }
        case 'socketsJoin':
          target(cmd).socketsJoin(cmd.target);
          break;
        case 'socketsLeave':
          target(cmd).socketsLeave(cmd.target);
          break;
        case 'disconnectSockets':
          target(cmd).disconnectSockets(!!cmd.close);
          break;
        case 'serverSideEmit':
          if (cmd.ack) {
            const replies = await io.serverSideEmitWithAck(cmd.event, ...fromJSON(cmd.args || []));
            out({ ev: 'result', id: cmd.id, value: toJSON(replies) });
          } else {
            io.serverSideEmit(cmd.event, ...fromJSON(cmd.args || []));
          }
          break;
        case 'allRooms':
          out({ ev: 'result', id: cmd.id, value: [...(await nsp.adapter.allRooms())] });
          break;
        case 'uid':
          out({ ev: 'result', id: cmd.id, value: nsp.adapter.uid });
          break;
        case 'serverCount':
          out({ ev: 'result', id: cmd.id, value: await nsp.adapter.serverCount() });
          break;
        case 'join': {
          const s = nsp.sockets.get(cmd.sid);
          if (s) s.join(cmd.rooms);
          out({ ev: 'result', id: cmd.id, value: !!s });
          break;
        }
        default:
          out({ ev: 'error', id: cmd.id, message: `unknown op ${cmd.op}` });
      }
    } catch (e) {
      out({ ev: 'error', id: cmd.id, message: e.message });
    }
  });
  rl.on('close', () => process.exit(0));

  httpServer.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
    out({ ev: 'listening', port: httpServer.address().port });
  });
}

main().catch((e) => {
  process.stderr.write(`noderedis: ${e.stack || e}\n`);
  process.exit(1);
});
