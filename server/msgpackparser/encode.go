package msgpackparser

import (
	"reflect"
	"slices"

	"feedrt/server/nodewire"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Encoder writes packets as socket.io-msgpack-parser's Encoder does.
type Encoder struct{}

// WritesOrderedObjects tells a cluster adapter that this encoder writes
// its ordered objects itself, binary inside them included
// (nodewire.IsObjectEncoder).
func (e *Encoder) WritesOrderedObjects() bool { return true }

// Encode writes p as one msgpack message: a map of the packet's keys in
// the order socket.io 4.8 builds its packet object, and then sets nsp
// (Socket.packet, the adapter's broadcast):
//
//   - CONNECT: type, data {sid, pid}, nsp (pid undefined when recovery
//     is off, as notepack writes a JavaScript undefined);
//   - DISCONNECT: type, nsp;
//   - EVENT: type, data, id (with an ack), nsp;
//   - ACK: id, type, data, nsp;
//   - CONNECT_ERROR: type, data, nsp from a middleware's refusal
//     ({message, data}), type, nsp, data for an unknown namespace
//     (Client.connect's packet).
//
// Data that cannot be written (a func, a chan, a cycle) is left out, as
// the default encoder leaves out data it cannot write as JSON.
func (e *Encoder) Encode(p *parser.Packet) []types.BufferInterface {
	typ := p.Type
	switch typ {
	case parser.BINARY_EVENT:
		typ = parser.EVENT
	case parser.BINARY_ACK:
		typ = parser.ACK
	}
	nsp := p.Nsp
	if nsp == "" {
		nsp = "/"
	}
	var data []byte
	hasData := false
	if p.Data != nil {
		var err error
		switch {
		case typ == parser.CONNECT:
			data, err = connectData(nil, p.Data)
		case typ == parser.CONNECT_ERROR:
			data, err = errorData(nil, p.Data)
		default:
			data, err = nodewire.AppendValueReading(nil, p.Data)
		}
		hasData = err == nil
	}
	n := 2 // type, nsp
	if hasData {
		n++
	}
	if p.Id != nil {
		n++
	}
	b := make([]byte, 0, 32+len(data))
	b = nodewire.AppendMapLen(b, n)
	putType := func(b []byte) []byte { return nodewire.AppendUint(nodewire.AppendString(b, "type"), uint64(typ)) }
	putData := func(b []byte) []byte {
		if !hasData {
			return b
		}
		return append(nodewire.AppendString(b, "data"), data...)
	}
	putID := func(b []byte) []byte {
		if p.Id == nil {
			return b
		}
		return nodewire.AppendUint(nodewire.AppendString(b, "id"), *p.Id)
	}
	putNsp := func(b []byte) []byte { return nodewire.AppendString(nodewire.AppendString(b, "nsp"), nsp) }
	switch {
	case typ == parser.ACK:
		b = putNsp(putData(putType(putID(b))))
	case typ == parser.CONNECT_ERROR && unknownNamespace(p.Data):
		b = putData(putNsp(putType(b)))
	default:
		b = putNsp(putID(putData(putType(b))))
	}
	return []types.BufferInterface{types.NewBytesBuffer(b)}
}

// unknownNamespace reports whether a CONNECT_ERROR's data is the
// library's refusal of an unknown namespace ({message} alone; a
// middleware's refusal is {message, data}).
func unknownNamespace(data any) bool {
	m, ok := data.(map[string]any)
	if !ok {
		return false
	}
	_, hasData := m["data"]
	return !hasData
}

// undefinedBytes is notepack's JavaScript undefined (fixext 1, type 0).
var undefinedBytes = []byte{0xd4, 0, 0}

// connectData writes CONNECT's data. The library's is a struct {sid,
// pid omitempty}; socket.io writes {sid: id, pid: this.pid}, pid
// undefined when recovery is off, and notepack writes that key too.
func connectData(b []byte, data any) ([]byte, error) {
	rv := reflect.Indirect(reflect.ValueOf(data))
	if rv.Kind() == reflect.Struct {
		sid, pid := rv.FieldByName("Sid"), rv.FieldByName("Pid")
		if sid.IsValid() && pid.IsValid() && sid.Kind() == reflect.String && pid.Kind() == reflect.String {
			b = nodewire.AppendMapLen(b, 2)
			b = nodewire.AppendString(nodewire.AppendString(b, "sid"), sid.String())
			b = nodewire.AppendString(b, "pid")
			if pid.String() == "" {
				return append(b, undefinedBytes...), nil
			}
			return nodewire.AppendString(b, pid.String()), nil
		}
	}
	return nodewire.AppendValueReading(b, data)
}

// errorData writes CONNECT_ERROR's data. A middleware's refusal is the
// library's map {message, data}; socket.io writes {message: err.message,
// data: err.data}, in that order, data undefined when the error has
// none.
func errorData(b []byte, data any) ([]byte, error) {
	m, ok := data.(map[string]any)
	if _, hasMessage := m["message"]; !ok || !hasMessage {
		return nodewire.AppendValueReading(b, data)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "message" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = append([]string{"message"}, keys...)
	b = nodewire.AppendMapLen(b, len(keys))
	var err error
	for _, k := range keys {
		b = nodewire.AppendString(b, k)
		if k == "data" && m[k] == nil {
			b = append(b, undefinedBytes...)
			continue
		}
		if b, err = nodewire.AppendValueReading(b, m[k]); err != nil {
			return nil, err
		}
	}
	return b, nil
}
