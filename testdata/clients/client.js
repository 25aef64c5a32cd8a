// A socket.io-client driven by the Go tests, one JSON object per line.
//
//   node client.js '<options JSON>'
//
// options: {url, version: 4|2, transports?: [...], path?, namespace?, auth?,
//           query?, reconnection?: bool, extraHeaders?,
//           raw?: bool (also print every text packet as received),
//           ackWith?: value (answer every event that asks for an ack with it),
//           parser?: "msgpack" (socket.io-msgpack-parser, 4.x only)}
// stdin commands:  {"op":"emit","event":E,"args":[...],"ack":true,"id":N}
//                  {"op":"close"}  {"op":"drop","ms":N} (lose the transport, reconnect after N ms)
//                  {"op":"state"} (answers {"ev":"state","transport":..})
// stdout events:   {"ev":"connect","id":..,"transport":<the first one>,"recovered":..}
//                  {"ev":"upgrade","transport":..}
//                  {"ev":"event","name":..,"args":[...]}
//                  {"ev":"ack","id":N,"args":[...]}
//                  {"ev":"disconnect","reason":..}
//                  {"ev":"connect_error","message":..}
//                  {"ev":"packet","data":<the Socket.IO packet text, byte for byte>} (raw only)
// Binary values travel as {"$bin":"<base64>"} in both directions (../jsonbin.js).
'use strict';

const readline = require('readline');

const opts = JSON.parse(process.argv[2] || '{}');
const io = opts.version === 2 ? require('socket.io-client-v2') : require('socket.io-client');

const { toJSON, fromJSON } = require('../jsonbin.js');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const url = opts.url + (opts.namespace || '');
const socketOpts = {
  reconnection: opts.reconnection !== false,
  reconnectionDelay: 200,
  reconnectionDelayMax: 500,
  timeout: 5000,
  forceNew: true,
};
if (opts.transports) socketOpts.transports = opts.transports;
if (opts.path) socketOpts.path = opts.path;
if (opts.auth) socketOpts.auth = opts.auth;
if (opts.query) socketOpts.query = opts.query;
if (opts.extraHeaders) socketOpts.extraHeaders = opts.extraHeaders;
if (opts.parser === 'msgpack') socketOpts.parser = require('socket.io-msgpack-parser');

const socket = io(url, socketOpts);
const manager = socket.io;

function transportName() {
  return manager.engine && manager.engine.transport ? manager.engine.transport.name : null;
}

let firstTransport = null;

function watchEngine() {
  const engine = manager.engine;
  if (!engine || engine.__watched) return;
  engine.__watched = true;
  firstTransport = transportName();
  engine.on('upgrade', (t) => out({ ev: 'upgrade', transport: t.name }));
  if (opts.raw) {
    // The text the server sent, before socket.io-client parses it, so the
    // tests can compare exact bytes (key order, number format).
    engine.on('packet', (p) => {
      if (p.type === 'message' && typeof p.data === 'string') out({ ev: 'packet', data: p.data });
    });
  }
}

manager.on('open', watchEngine);
socket.on('connect', () => {
  watchEngine();
  out({ ev: 'connect', id: socket.id, transport: firstTransport, recovered: Boolean(socket.recovered) });
});
socket.on('disconnect', (reason) => out({ ev: 'disconnect', reason }));
socket.on(opts.version === 2 ? 'error' : 'connect_error', (err) =>
  out({ ev: 'connect_error', message: String(err && err.message ? err.message : err) }));
if (opts.version === 2) {
  socket.on('connect_error', (err) => out({ ev: 'connect_error', message: String(err && err.message ? err.message : err) }));
}

// onAny exists in 4.x only; 2.x gets the events the tests use.
if (typeof socket.onAny === 'function') {
  socket.onAny((name, ...args) => {
    if (opts.ackWith !== undefined && typeof args[args.length - 1] === 'function') args.pop()(fromJSON(opts.ackWith));
    out({ ev: 'event', name, args: toJSON(args) });
  });
} else {
  for (const name of opts.listen || ['posts', 'news', 'echo', 'binary']) {
    socket.on(name, (...args) => out({ ev: 'event', name, args: toJSON(args) }));
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  switch (cmd.op) {
    case 'emit': {
      const args = fromJSON(cmd.args || []);
      if (cmd.ack) args.push((...reply) => out({ ev: 'ack', id: cmd.id, args: toJSON(reply) }));
      socket.emit(cmd.event, ...args);
      break;
    }
    case 'state':
      out({ ev: 'state', transport: transportName(), id: socket.id, connected: socket.connected });
      break;
    case 'drop':
      // Lose the connection (no Socket.IO goodbye, as when the network
      // drops) and reconnect after cmd.ms milliseconds.
      if (cmd.ms) {
        manager.reconnectionDelay(cmd.ms);
        manager.reconnectionDelayMax(cmd.ms);
        manager.randomizationFactor(0);
      }
      manager.engine.close();
      break;
    case 'close':
      socket.close();
      setTimeout(() => process.exit(0), 50);
      break;
    default:
      out({ ev: 'error', message: 'unknown op ' + cmd.op });
  }
});
rl.on('close', () => process.exit(0));
