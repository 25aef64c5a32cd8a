// Package msgpackparser is the Socket.IO parser of Node's
// socket.io-msgpack-parser 3.x for the library's Socket.IO server
// (SetParser): every packet is one binary message, the msgpack encoding
// (as notepack.io 2.x writes it) of the packet object {type, data, nsp,
// id}, with binary as msgpack bin inside the data; there are no
// BINARY_EVENT packets and no attachments.
//
// Encoding writes the packet's data as notepack writes the JavaScript
// value it stands for (nodewire.AppendValue: the Redis adapters write
// theirs with the same rules), and the packet's keys in the order
// socket.io 4.8 builds its packet objects, so a client gets the bytes a
// Node server sends.
//
// Decoding checks a packet as the package's checkPacket does, and as
// the default parser does for what the library relies on, and hands
// handlers the Go values the default parser gives: numbers as float64,
// objects as map[string]any, arrays as []any, binary as
// *types.BytesBuffer. A message that does not decode is the decoder's
// error, which makes the library close that client, as it does for the
// default parser.
package msgpackparser

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

// Parser makes the encoder and decoders of a server.
type Parser struct{}

var _ parser.Parser = (*Parser)(nil)

// New returns the parser of one server.
func New() *Parser { return &Parser{} }

// NewEncoder returns the encoder (safe for concurrent use).
func (p *Parser) NewEncoder() parser.Encoder { return &Encoder{} }

// NewDecoder returns a decoder for one client.
func (p *Parser) NewDecoder() parser.Decoder { return newDecoder() }
