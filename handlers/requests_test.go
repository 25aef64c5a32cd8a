package handlers

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"slices"
	"strings"

	"feedrt/store"
)

// body is a request body with its Content-Type.
type body struct {
	contentType string
	data        []byte
}

// jsonBody is a JSON request body given as text.
func jsonBody(s string) body { return body{"application/json", []byte(s)} }

// upload is one file part of a multipart body.
type upload struct {
	field, filename, contentType string
	data                         []byte
}

func file(field, filename, contentType string, data []byte) *upload {
	return &upload{field, filename, contentType, data}
}

// form builds a multipart body from text fields and an optional file.
func form(fields map[string]string, f *upload) body {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_ = w.WriteField(k, fields[k])
	}
	if f != nil {
		h := textproto.MIMEHeader{}
		// Written by hand: CreateFormFile would escape nothing either,
		// but this keeps the raw client file name in the test visible.
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.filename+`"`)
		h.Set("Content-Type", f.contentType)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	return body{w.FormDataContentType(), buf.Bytes()}
}

// do sends one request through the engine as the given caller.
func (e *env) do(method, url, caller string, b body) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.doFrom(e.t.Context(), "", method, url, caller, b)
}

// doFrom is do with the request's context and the client's address
// (host:port; "" keeps httptest's 192.0.2.1:1234).
func (e *env) doFrom(ctx context.Context, addr, method, url, caller string, b body) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader = http.NoBody
	if b.data != nil {
		r = bytes.NewReader(b.data)
	}
	req := httptest.NewRequestWithContext(ctx, method, url, r)
	if addr != "" {
		req.RemoteAddr = addr
	}
	if b.contentType != "" {
		req.Header.Set("Content-Type", b.contentType)
	}
	if auth := e.token(caller); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w
}

// imageFiles lists the images directory.
func (e *env) imageFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.images.Dir)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	return names
}

// fileOf is the image file name of a stored post.
func fileOf(p store.Post) string { return strings.TrimPrefix(p.ImageURL, imageURLPrefix) }
