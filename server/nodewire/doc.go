// Package nodewire is the Node wire codec the Redis adapters and the
// real-time engine share: JavaScript values as Node's Socket.IO cluster
// adapters write and read them, so that Go and Node servers can share
// Redis channels and every client of a cluster gets the same bytes.
//
//   - Object: a JavaScript object whose keys keep the sender's order
//     (its JSON is the sender's), what values from other servers decode
//     to;
//   - JSON as JSON.stringify writes it (MarshalJSON, DecodeJSON), and
//     msgpack as notepack.io writes and reads it (AppendValue, Decoding),
//     for the adapters and the msgpack parser;
//   - Parser: the server's Socket.IO parser wrapped so packets reach the
//     clients as a Node server writes them, binary inside an Object sent
//     as attachments (IsObjectEncoder, Deliverable, HasBinary);
//   - the shapes of socket.io-adapter's messages: packets, broadcast
//     options and rooms (PacketOf, OptsOf, OptsFlags, RoomsOf, FromRooms,
//     ToRooms), and the sockets of fetchSockets answers (SocketOf,
//     RemoteSocket, NodeHandshake).
package nodewire
