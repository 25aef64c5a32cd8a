// socket.io 4.8 on socket.io-msgpack-parser, without recovery, sending
// the fixed packets the Go test of the same name compares byte for byte
// with the Go server's (server/msgpack_wire_test.go):
//
//   node msgpackwire.js      stdout: {"ev":"listening","port":N}
//
// A socket's "go" is answered with the event "ev" to it (every kind of
// value) and the broadcast "bc" (a post); "ask" is acknowledged with
// {got: its arguments}; a namespace other than "/" is refused.
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const evPayload = {
  arr: [1, -1, 1.5, -2.25, null, true, false, 255, 65536, -33],
  big: 4294967296,
  bin: Buffer.from([0, 1, 2, 255]),
  long: 'x'.repeat(300),
  neg: -129,
  nested: { a: { b: [{ c: 'd' }] } },
  num: 42,
  utf: 'héllo € 𝄞',
};

const post = {
  _id: '65a1b2c3d4e5f60718293a4b',
  title: 'Q&A <b>',
  content: 'A post of some length, with "quotes".',
  imageUrl: 'images/x.png',
  creator: { _id: '65a1b2c3d4e5f60718293a4c', name: 'Ann' },
  createdAt: '2024-01-02T03:04:05.006Z',
  updatedAt: '2024-01-02T03:04:05.006Z',
};

const httpServer = http.createServer();
const io = new Server(httpServer, { parser: require('socket.io-msgpack-parser') });
io.on('connection', (socket) => {
  socket.on('go', () => {
    socket.emit('ev', evPayload);
    io.emit('bc', { action: 'create', post });
  });
  socket.on('ask', (...args) => {
    const ack = args.pop();
    ack({ got: args });
  });
});
httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ ev: 'listening', port: httpServer.address().port }) + '\n');
});
