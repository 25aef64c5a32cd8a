'use strict';
// Node reference for the fan-out benchmark (cmd/fanout): the parts of the
// classic Express + socket.io "feed" back end that the benchmark drives,
// written the ordinary way. Users and posts live in memory; images are
// parsed by multer and then dropped (only a generated name is kept).
// Auth is a stand-in: login hands out a token that names the user, and
// the feed routes only check that a Bearer token is there and known.
//
// Environment: PORT (default 8090), HOST (default 127.0.0.1),
// CONNECTION_STATE_RECOVERY=1 to enable socket.io's connection state
// recovery with the Go server's settings (off by default: socket.io's
// defaults otherwise, pingInterval 25000, pingTimeout 20000),
// HTTP_COMPRESSION=false to turn engine.io's httpCompression off (on by
// default, as in socket.io) and HTTP_COMPRESSION_THRESHOLD to set its
// threshold (1024 by default), as the Go server's SOCKETIO_HTTP_COMPRESSION
// and SOCKETIO_HTTP_COMPRESSION_THRESHOLD; PER_MESSAGE_DEFLATE=true to turn
// engine.io's perMessageDeflate on (off by default, as in socket.io) with
// PER_MESSAGE_DEFLATE_THRESHOLD (1024 by default), as the Go server's
// SOCKETIO_PER_MESSAGE_DEFLATE and SOCKETIO_PER_MESSAGE_DEFLATE_THRESHOLD.

const crypto = require('crypto');
const http = require('http');
const path = require('path');

const cors = require('cors');
const express = require('express');
const multer = require('multer');
const { Server } = require('socket.io');

const PORT = Number(process.env.PORT || 8090);
const HOST = process.env.HOST || '127.0.0.1';

const newId = () => crypto.randomBytes(12).toString('hex');

const users = new Map(); // email -> {_id, email, password, name}
const usersById = new Map();
const tokens = new Map(); // token -> userId
const posts = [];

const app = express();
const server = http.createServer(app);

const ioOptions = { cors: { origin: '*' } };
if (process.env.CONNECTION_STATE_RECOVERY === '1') {
  ioOptions.connectionStateRecovery = {
    maxDisconnectionDuration: 2 * 60 * 1000,
    skipMiddlewares: true,
  };
}
if (process.env.HTTP_COMPRESSION === 'false' || process.env.HTTP_COMPRESSION === '0') {
  ioOptions.httpCompression = false;
} else if (process.env.HTTP_COMPRESSION_THRESHOLD) {
  ioOptions.httpCompression = { threshold: Number(process.env.HTTP_COMPRESSION_THRESHOLD) };
}
if (process.env.PER_MESSAGE_DEFLATE === 'true' || process.env.PER_MESSAGE_DEFLATE === '1') {
  ioOptions.perMessageDeflate = { threshold: Number(process.env.PER_MESSAGE_DEFLATE_THRESHOLD || 1024) };
}
const io = new Server(server, ioOptions);

const imageTypes = new Set(['image/png', 'image/jpg', 'image/jpeg', 'image/webp']);
const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: 5 * 1024 * 1024 },
  fileFilter: (req, file, cb) => cb(null, imageTypes.has(file.mimetype)),
});

app.use(cors({ origin: '*', methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], allowedHeaders: ['Content-Type', 'Authorization'] }));
app.use(express.json());

const fail = (status, message, data) => {
  const err = new Error(message);
  err.statusCode = status;
  err.data = data || [];
  return err;
};

const isAuth = (req, res, next) => {
  const header = req.get('Authorization');
  if (!header) {
    return next(fail(401, 'Not authenticated.'));
  }
  const userId = tokens.get(header.split(' ')[1]);
  if (!userId) {
    return next(fail(401, 'Not authenticated.'));
  }
  req.userId = userId;
  next();
};

app.put('/auth/signup', (req, res, next) => {
  const email = String(req.body.email || '').trim().toLowerCase();
  const password = String(req.body.password || '').trim();
  const name = String(req.body.name || '').trim();
  if (!email.includes('@') || password.length < 5 || !name) {
    return next(fail(422, 'Validation failed.'));
  }
  if (users.has(email)) {
    return next(fail(422, 'Validation failed.', [{ type: 'field', path: 'email', msg: 'E-Mail address already exists!', value: email, location: 'body' }]));
  }
  const user = { _id: newId(), email, password, name, status: 'I am new!' };
  users.set(email, user);
  usersById.set(user._id, user);
  res.status(201).json({ message: 'User created!', userId: user._id });
});

app.post('/auth/login', (req, res, next) => {
  const user = users.get(String(req.body.email || '').trim().toLowerCase());
  if (!user) {
    return next(fail(401, 'A user with this email could not be found.'));
  }
  if (user.password !== String(req.body.password || '').trim()) {
    return next(fail(401, 'Wrong password!'));
  }
  const token = 'noderef.' + crypto.randomBytes(16).toString('hex');
  tokens.set(token, user._id);
  res.status(200).json({ token, userId: user._id });
});

app.get('/feed/posts', isAuth, (req, res) => {
  const page = Math.max(1, parseInt(req.query.page, 10) || 1);
  const sorted = posts.slice().reverse();
  res.status(200).json({ message: 'Fetched posts successfully.', posts: sorted.slice((page - 1) * 2, page * 2), totalItems: posts.length });
});

app.post('/feed/post', isAuth, upload.single('image'), (req, res, next) => {
  const title = String(req.body.title || '').trim();
  const content = String(req.body.content || '').trim();
  if (title.length < 5 || content.length < 5) {
    return next(fail(422, 'Validation failed, entered data is incorrect.'));
  }
  if (!req.file) {
    return next(fail(422, 'No image provided.'));
  }
  const user = usersById.get(req.userId);
  const creator = { _id: user._id, name: user.name };
  const now = new Date().toISOString();
  const ext = path.extname(req.file.originalname || '').toLowerCase() || '.png';
  const post = {
    _id: newId(),
    title,
    content,
    imageUrl: 'images/' + newId() + ext,
    creator,
    createdAt: now,
    updatedAt: now,
  };
  posts.push(post);
  io.emit('posts', { action: 'create', post });
  res.status(201).json({ message: 'Post created successfully!', post, creator });
});

app.get('/healthz', (req, res) => res.status(200).json({ status: 'ok' }));

app.use((req, res, next) => next(fail(404, 'Not found.')));

// eslint-disable-next-line no-unused-vars
app.use((error, req, res, next) => {
  const status = error.statusCode || 500;
  const message = status === 500 ? 'Internal server error.' : error.message;
  if (status === 500) {
    console.error(error);
  }
  res.status(status).json({ message, data: error.data || [] });
});

io.on('connection', () => {});

server.listen(PORT, HOST, () => {
  const addr = server.address();
  console.log(`noderef listening addr=${addr.address}:${addr.port} pid=${process.pid} csr=${Boolean(ioOptions.connectionStateRecovery)} httpCompression=${JSON.stringify(io.engine.opts.httpCompression)}`);
});

const stop = () => {
  // io.close also closes the HTTP server; keep-alive connections would
  // hold that open, so they are closed too.
  io.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
