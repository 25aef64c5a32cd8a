package msgpackparser

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"feedrt/server/nodewire"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Decoder reads one client's packets, each one binary message.
type Decoder struct {
	types.EventEmitter
}

func newDecoder() *Decoder { return &Decoder{EventEmitter: types.NewEventEmitter()} }

// Errors of a message that is not a packet; the library closes the
// client that sent it.
var (
	ErrText       = errors.New("msgpackparser: text message (packets are binary)")
	ErrPacketType = errors.New("msgpackparser: invalid packet type")
	ErrNamespace  = errors.New("msgpackparser: invalid namespace")
	ErrPayload    = errors.New("msgpackparser: invalid payload")
	ErrID         = errors.New("msgpackparser: invalid packet id")
)

// handlerValues reads a packet into what the default parser hands
// handlers: objects as map[string]any, numbers as float64, binary as a
// *types.BytesBuffer.
var handlerValues = nodewire.Decoding{Binary: func(b []byte) any { return types.NewBytesBuffer(b) }}

// maxNamespaceLength is the default parser's bound on a namespace's
// length (parser.DefaultMaxNamespaceLength).
const maxNamespaceLength = parser.DefaultMaxNamespaceLength

// Add decodes one message and emits "decoded" with its packet.
func (d *Decoder) Add(data any) error {
	var raw []byte
	switch x := data.(type) {
	case string, *strings.Reader, *types.StringBuffer:
		return ErrText
	case []byte:
		raw = x
	case interface{ Bytes() []byte }:
		raw = x.Bytes()
	case io.Reader:
		var err error
		if raw, err = io.ReadAll(x); err != nil {
			return err
		}
	default:
		return fmt.Errorf("msgpackparser: unknown type %T", data)
	}
	p, err := Decode(raw)
	if err != nil {
		return err
	}
	d.Emit("decoded", p)
	return nil
}

// Destroy does nothing: a decoder holds nothing between messages.
func (d *Decoder) Destroy() {}

// Decode reads one packet, checked as socket.io-msgpack-parser's
// checkPacket checks it: type an integer from CONNECT to CONNECT_ERROR,
// nsp a string, data as the type wants it (CONNECT: none or an object;
// DISCONNECT: none; CONNECT_ERROR: a string or an object; EVENT and ACK:
// an array), id none or an integer. As the default parser, it also
// refuses what the library cannot take: an EVENT with no name, a name
// that is not a string or a number or is reserved ("connect",
// "disconnect", ...), an id that is negative or past 2^64, a namespace
// longer than 512 bytes.
func Decode(raw []byte) (*parser.Packet, error) {
	v, err := handlerValues.Decode(raw)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	p := &parser.Packet{}
	typ, ok := m["type"].(float64)
	if !ok || typ != math.Trunc(typ) || typ < float64(parser.CONNECT) || typ > float64(parser.CONNECT_ERROR) {
		return nil, ErrPacketType
	}
	p.Type = parser.PacketType(typ)
	if p.Nsp, ok = m["nsp"].(string); !ok || len(p.Nsp) > maxNamespaceLength {
		return nil, ErrNamespace
	}
	data, hasData := m["data"]
	if !validData(p.Type, data, hasData) {
		return nil, ErrPayload
	}
	if hasData {
		p.Data = data
	}
	if idv, has := m["id"]; has {
		id, ok := idv.(float64)
		if !ok || id != math.Trunc(id) || id < 0 || id >= 1<<64 {
			return nil, ErrID
		}
		u := uint64(id)
		p.Id = &u
	}
	return p, nil
}

// validData is checkPacket's isDataValid, with the default parser's
// check of an event's name.
func validData(t parser.PacketType, data any, has bool) bool {
	switch t {
	case parser.CONNECT:
		_, isMap := data.(map[string]any)
		return !has || isMap
	case parser.DISCONNECT:
		return !has
	case parser.CONNECT_ERROR:
		switch data.(type) {
		case string, map[string]any:
			return true
		}
		return false
	case parser.EVENT:
		args, ok := data.([]any)
		if !ok || len(args) == 0 {
			return false
		}
		switch name := args[0].(type) {
		case string:
			return !parser.ReservedEvents.Has(name)
		case float64:
			return true
		}
		return false
	default: // ACK
		_, ok := data.([]any)
		return ok
	}
}
