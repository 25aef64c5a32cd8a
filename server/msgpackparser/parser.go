// Package msgpackparser is the Socket.IO parser of Node's
// socket.io-msgpack-parser 3.x for the library's Socket.IO server
// (SetParser): every packet is one binary message, the msgpack encoding
// (as notepack.io 2.x writes it) of the packet object {type, data, nsp,
// id}, with binary as msgpack bin inside the data; there are no
// BINARY_EVENT packets and no attachments.
//
// Encoding writes a Go value as notepack writes the JavaScript value it
// stands for, the one the default parser's JSON describes: struct fields
// by their json tags in declaration order, map keys sorted (as
// encoding/json writes them), integral numbers as the smallest msgpack
// integer, others as float64, []byte and binary buffers as bin, and an
// Ordered object (a cluster peer's, keys in the sender's order) with its
// keys in order. The packet's keys are in the order socket.io 4.8 builds
// its packet objects, so a client gets the bytes a Node server sends.
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
	"reflect"
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

// Ordered is a JavaScript object whose keys keep an order, such as an
// object a cluster peer sent (nodewire.Object): it is written as a
// msgpack map with its keys in that order.
type Ordered interface {
	// Len is the number of keys.
	Len() int
	// Entry is the i-th key and its value.
	Entry(i int) (key string, value any)
}

// Parser makes the encoder and decoders of one server. It holds the
// struct field lists the encoder has worked out, so each struct type is
// inspected once per server.
type Parser struct {
	fields *sync.Map // reflect.Type → *structPlan
}

var _ parser.Parser = (*Parser)(nil)

// New returns the parser of one server.
func New() *Parser { return &Parser{fields: &sync.Map{}} }

// NewEncoder returns the encoder (safe for concurrent use).
func (p *Parser) NewEncoder() parser.Encoder { return &Encoder{fields: p.fields} }

// NewDecoder returns a decoder for one client.
func (p *Parser) NewDecoder() parser.Decoder { return newDecoder() }

// planOf is t's struct plan, worked out once.
func (e *Encoder) planOf(t reflect.Type) *structPlan {
	if p, ok := e.fields.Load(t); ok {
		return p.(*structPlan)
	}
	p, _ := e.fields.LoadOrStore(t, newStructPlan(t))
	return p.(*structPlan)
}
