// A Node socket.io 4.8 server on its default in-memory adapter, started
// with the options of `new Server(httpServer, opts)` given as JSON, so the
// Go tests (server/nodeparity_test.go) can compare what Node answers with
// what the Go server answers for the same options:
//
//   node options.js '{"cookie":{"name":"io","path":false},"transports":["polling"]}'
//
// The HTTP server answers every request that is not Socket.IO's with a
// plain 404, as an Express app with no matching route would (engine.io
// takes the requests under its path before it). It listens on 127.0.0.1,
// on a port of the system's choosing.
//
// stdout:  {"ev":"listening","port":N}
//          {"ev":"connection","id":..}   a client joined "/"
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const opts = JSON.parse(process.argv[2] || '{}');

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not Found');
});
const io = new Server(httpServer, opts);
io.on('connection', (socket) => {
  process.stdout.write(JSON.stringify({ ev: 'connection', id: socket.id }) + '\n');
});
httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ ev: 'listening', port: httpServer.address().port }) + '\n');
});
// The test kills the process; a closed stdin (the test binary gone) ends it too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
