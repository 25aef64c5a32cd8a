package engineio

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Reading WebSocket frames from a client (RFC 6455, section 5), as a
// server must: every frame masked, no reserved bit but RSV1 on the first
// frame of a message when permessage-deflate was negotiated (RFC 7692;
// the message is then inflated, wsdeflate.go), known opcodes only,
// control frames short and whole, fragments in order, text in UTF-8, messages within the payload limit.
// A fault closes the connection with the status code the RFC names.

// Close status codes this server sends.
const (
	closeNormal      = 1000
	closeProtocol    = 1002 // a frame the RFC forbids
	closeInvalidData = 1007 // text that is not UTF-8
	closeTooBig      = 1009 // a message past the payload limit
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// wsEvents is what a wsReader finds in the bytes it is fed. Payloads are
// the callee's to keep.
type wsEvents interface {
	message(payload []byte, binary bool)
	ping(payload []byte)
	// closeFrame: the client's close frame, with its status code (0 if
	// it sent none).
	closeFrame(code uint16)
}

// wsReader is the reading state of one WebSocket connection: the bytes
// of a frame not complete yet, and the fragments of a message not
// complete yet.
type wsReader struct {
	max int // largest message payload (inflated)
	// inflate, set when permessage-deflate was negotiated, inflates a
	// compressed message, refusing one past max bytes (errTooBig).
	inflate    func(compressed []byte, max int) ([]byte, error)
	compressed bool   // the fragmented message open is compressed
	partial    []byte // the start of a frame whose end has not come
	frag       []byte // fragments of a message so far
	fragOp     byte   // its opcode; 0 when no fragmented message is open
}

// wsError is a fault in a client's frames: the status to close with.
type wsError uint16

func (e wsError) Error() string { return "websocket: close " + strconv.Itoa(int(e)) }

// feed reads the frames in data (after what is left of the previous
// call), reporting each complete one to ev. A fault is returned as a
// wsError; nothing after it is read. Once the client's close frame is
// reported, the rest is ignored (done true).
func (r *wsReader) feed(data []byte, ev wsEvents) (done bool, err error) {
	if len(r.partial) > 0 {
		// Complete the partial frame first, taking only what it needs.
		for len(data) > 0 {
			need, err := r.frameLen(r.partial)
			if err != nil {
				return false, err
			}
			if need < 0 { // the header is not whole yet: one more byte
				r.partial = append(r.partial, data[0])
				data = data[1:]
				continue
			}
			take := min(need-len(r.partial), len(data))
			r.partial = append(r.partial, data[:take]...)
			data = data[take:]
			if len(r.partial) < need {
				return false, nil
			}
			frame := r.partial
			r.partial = nil
			if done, err := r.frame(frame, ev); done || err != nil {
				return done, err
			}
			break
		}
	}
	for len(data) > 0 {
		need, err := r.frameLen(data)
		if err != nil {
			return false, err
		}
		if need < 0 || need > len(data) {
			r.partial = append(make([]byte, 0, max(need, 14)), data...)
			return false, nil
		}
		if done, err := r.frame(data[:need], ev); done || err != nil {
			return done, err
		}
		data = data[need:]
	}
	return false, nil
}

// frameLen is the length of the frame at the start of b, header
// included; -1 when b does not hold the whole header yet. A header the
// RFC forbids, or announcing a payload past the limit, is a fault.
func (r *wsReader) frameLen(b []byte) (int, error) {
	if len(b) < 2 {
		return -1, nil
	}
	b0, b1 := b[0], b[1]
	op := b0 & 0x0f
	switch {
	case b0&0x30 != 0: // RSV2-3: no extension uses them
		return 0, wsError(closeProtocol)
	case b0&0x40 != 0 && (r.inflate == nil || op != opText && op != opBinary):
		// RSV1: only with permessage-deflate, on a message's first frame
		return 0, wsError(closeProtocol)
	case b1&0x80 == 0: // a client must mask every frame (section 5.1)
		return 0, wsError(closeProtocol)
	case op >= opClose && (b0&0x80 == 0 || b1&0x7f > 125): // control frames: whole and short
		return 0, wsError(closeProtocol)
	case op > opBinary && op != opClose && op != opPing && op != opPong:
		return 0, wsError(closeProtocol)
	}
	head, n := 2, uint64(b1&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return -1, nil
		}
		head, n = 4, uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if len(b) < 10 {
			return -1, nil
		}
		head, n = 10, binary.BigEndian.Uint64(b[2:])
		if n>>63 != 0 {
			return 0, wsError(closeProtocol)
		}
	}
	if n > uint64(r.max)-uint64(len(r.frag)) && op < opClose || n > uint64(r.max) {
		return 0, wsError(closeTooBig)
	}
	return head + 4 + int(n), nil
}

// frame handles one whole frame.
func (r *wsReader) frame(f []byte, ev wsEvents) (done bool, err error) {
	fin, op := f[0]&0x80 != 0, f[0]&0x0f
	head := 2
	switch f[1] & 0x7f {
	case 126:
		head = 4
	case 127:
		head = 10
	}
	key := f[head : head+4]
	payload := make([]byte, len(f)-head-4)
	for i, c := range f[head+4:] {
		payload[i] = c ^ key[i&3]
	}
	switch op {
	case opPing:
		ev.ping(payload)
	case opPong:
	case opClose:
		var code uint16
		if len(payload) >= 2 {
			code = binary.BigEndian.Uint16(payload)
		}
		if len(payload) == 1 || len(payload) > 2 && !utf8.Valid(payload[2:]) {
			return true, wsError(closeProtocol)
		}
		ev.closeFrame(code)
		return true, nil
	case opContinuation:
		if r.fragOp == 0 {
			return false, wsError(closeProtocol)
		}
		r.frag = append(r.frag, payload...)
		if fin {
			return false, r.deliver(r.frag, r.fragOp, ev)
		}
	default: // text or binary
		if r.fragOp != 0 {
			return false, wsError(closeProtocol)
		}
		r.compressed = f[0]&0x40 != 0
		if !fin {
			r.frag, r.fragOp = payload, op
			return false, nil
		}
		return false, r.deliver(payload, op, ev)
	}
	return false, nil
}

// deliver reports a whole message.
func (r *wsReader) deliver(payload []byte, op byte, ev wsEvents) error {
	r.frag, r.fragOp = nil, 0
	if r.compressed {
		r.compressed = false
		var err error
		if payload, err = r.inflate(payload, r.max); err != nil {
			if errors.Is(err, errTooBig) {
				return wsError(closeTooBig)
			}
			return wsError(closeInvalidData) // not DEFLATE: ws closes with 1007 too
		}
	}
	if op == opText && !utf8.Valid(payload) {
		return wsError(closeInvalidData)
	}
	ev.message(payload, op == opBinary)
	return nil
}
