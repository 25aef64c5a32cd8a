package server

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// The socket.io client bundle, served as socket.io 4.8 on Node serves it
// (its Server.attachServe, serve and sendFile), because front ends load
// it with <script src="/socket.io/socket.io.js"> from the server they
// talk to. Node reads it from the client-dist folder of its own npm
// package; here it comes from SOCKETIO_CLIENT_DIR, by default the same
// folder of the migrating app's node_modules, so the bundle is the very
// one the app served and nothing of it is kept in this repository.

// clientNames are the files socket.io 4.8 serves (its CLIENT_FILES); any
// other name under the path is Engine.IO's.
var clientNames = []string{
	"socket.io.esm.min.js", "socket.io.esm.min.js.map",
	"socket.io.js", "socket.io.js.map",
	"socket.io.min.js", "socket.io.min.js.map",
	"socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
}

// clientBundle is the bundle read at start. Its files are kept in memory,
// with each compressed once (about 2 MB in all for socket.io 4.8): Node
// compresses on every request, which costs a client's page load here
// nothing more than a copy.
type clientBundle struct {
	prefix string                 // SOCKETIO_PATH without its trailing slash, then "/"
	etag   string                 // `"<version>"`, the version of the package.json beside the folder
	files  map[string]*clientFile // the names found; none: they answer the REST API's 404
}

// clientFile is one file, by Content-Encoding ("": as it is).
type clientFile struct {
	contentType string
	encoded     map[string][]byte
}

// loadClientBundle reads the bundle and says at start whether it is
// served and from where. It is nil with SOCKETIO_SERVE_CLIENT off: as
// with Node's serveClient false, the names are then Engine.IO's. A
// folder or package.json that is missing is no reason to refuse to
// start (a deployment without node_modules needs no bundle): the names
// then answer 404, where Node would answer 200 with an empty body.
func loadClientBundle(cfg SocketIOConfig, log *slog.Logger) *clientBundle {
	if !cfg.ServeClient {
		log.Info("client bundle not served: SOCKETIO_SERVE_CLIENT is off, its paths go to Engine.IO as on Node")
		return nil
	}
	b := &clientBundle{prefix: strings.TrimSuffix(cfg.Path, "/") + "/", files: map[string]*clientFile{}}
	dir, err := filepath.Abs(cfg.ClientDir)
	if err != nil {
		dir = cfg.ClientDir
	}
	// socket.io/client-dist and socket.io-client/dist alike have their
	// package's package.json in the folder above them.
	version, err := packageVersion(filepath.Join(filepath.Dir(dir), "package.json"))
	if err != nil {
		log.Warn("client bundle not served: no package.json with a version in the folder above SOCKETIO_CLIENT_DIR; its paths answer 404",
			"dir", dir, "err", err)
		return b
	}
	b.etag = strconv.Quote(version)
	var missing []string
	var firstErr error
	for _, name := range clientNames {
		f, err := readClientFile(filepath.Join(dir, name))
		if err != nil {
			missing = append(missing, name)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		b.files[name] = f
	}
	if len(b.files) == 0 {
		log.Warn("client bundle not served: none of its files is in SOCKETIO_CLIENT_DIR; its paths answer 404", "dir", dir, "err", firstErr)
		return b
	}
	attrs := []any{"path", b.prefix + "socket.io.js", "dir", dir, "version", version}
	if len(missing) > 0 {
		attrs = append(attrs, "missing", missing) // an older client's dist folder has fewer
	}
	log.Info("client bundle served", attrs...)
	return b
}

// packageVersion is the version a package.json declares.
func packageVersion(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", err
	}
	if pkg.Version == "" {
		return "", errors.New(path + ": no version")
	}
	return pkg.Version, nil
}

// readClientFile reads a file and compresses it the ways Node offers:
// gzip and deflate (zlib's format, as Node's createDeflate writes it)
// at zlib's default level, as Node; brotli at the library's default
// quality, not Node's 11, which would take seconds at every start for a
// tenth fewer bytes (and browsers list gzip first, which Node prefers).
func readClientFile(path string) (*clientFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &clientFile{contentType: "application/javascript; charset=utf-8", encoded: map[string][]byte{"": raw}}
	if strings.HasSuffix(path, ".map") {
		f.contentType = "application/json; charset=utf-8"
	}
	for enc, newWriter := range map[string]func(io.Writer) io.WriteCloser{
		"gzip":    func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"deflate": func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) },
		"br":      func(w io.Writer) io.WriteCloser { return brotli.NewWriter(w) },
	} {
		var buf bytes.Buffer
		zw := newWriter(&buf)
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		f.encoded[enc] = buf.Bytes()
	}
	return f, nil
}

// file is the name of the bundle file an escaped request path asks for,
// as socket.io reads it off req.url (the query is not part of path);
// ok when it is one of clientNames. Node takes any one character after
// its path, not only a slash: /socket.ioXsocket.io.js is no client's
// request, and is not the bundle's here.
func (b *clientBundle) file(path string) (name string, ok bool) {
	if b == nil {
		return "", false
	}
	name, ok = strings.CutPrefix(path, b.prefix)
	return name, ok && name != "" && slices.Contains(clientNames, name)
}

// loaded reports whether the file of that name was read at start.
func (b *clientBundle) loaded(name string) bool { return b.files[name] != nil }

// ServeHTTP answers a request for a loaded file (see file and loaded)
// of any method, as Node does. The headers are Node's, with two
// additions: Vary: Accept-Encoding, as the body depends on it and
// Cache-Control lets shared caches keep it; and a 304 keeps ETag,
// Cache-Control and Vary, which RFC 9110 (15.4.5) asks for and Node
// leaves out. The length is sent where Node streams the body chunked.
func (b *clientBundle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _ := b.file(r.URL.EscapedPath())
	f := b.files[name]
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("ETag", b.etag)
	h.Add("Vary", "Accept-Encoding")
	// Node compares the header whole (repeated ones joined by ", "): a
	// list naming the version among others is not a match.
	if inm := strings.Join(r.Header.Values("If-None-Match"), ", "); inm == b.etag || inm == "W/"+b.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	enc := preferredEncoding(strings.Join(r.Header.Values("Accept-Encoding"), ", "))
	body := f.encoded[enc]
	h.Set("Content-Type", f.contentType)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// clientEncodings are the encodings socket.io offers, in its order.
var clientEncodings = []string{"br", "gzip", "deflate"}

// acceptedEncoding is one entry of Accept-Encoding, as Node's negotiator
// 0.6 reads it.
var acceptedEncoding = regexp.MustCompile(`^\s*([^\s;]+)\s*(?:;(.*))?$`)

// preferredEncoding is the Content-Encoding socket.io sends for an
// Accept-Encoding header, "" for none: its
// accepts(req).encodings(["br", "gzip", "deflate"]), Node's negotiator
// 0.6 rule for rule, so the choice is Node's for any header. At equal
// quality the client's order decides: browsers send "gzip, deflate, br"
// and get gzip. Identity is never weighed against the three: a client
// that accepts any of them gets it.
func preferredEncoding(accept string) string {
	type spec struct {
		name string
		q    float64
		s, o int // specificity (1: named, 0: "*"), index in the header
	}
	var accepted []spec
	for i, part := range strings.Split(accept, ",") {
		m := acceptedEncoding.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			continue
		}
		a := spec{name: m[1], q: 1, o: i}
		for p := range strings.SplitSeq(m[2], ";") {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "q" {
				v, _, _ = strings.Cut(v, "=")
				a.q = jsParseFloat(v) // NaN without a number: never accepted
				break
			}
		}
		accepted = append(accepted, a)
	}
	best := spec{}
	for _, enc := range clientEncodings {
		// The entry that decides for enc: the most specific, then the
		// highest quality, then the last.
		p := spec{o: -1}
		for _, a := range accepted {
			switch {
			case strings.EqualFold(a.name, enc):
				a.s = 1
			case a.name != "*":
				continue
			}
			if jsOr(float64(p.s-a.s), p.q-a.q, float64(p.o-a.o)) < 0 {
				p = a
			}
		}
		// Sorted by quality, specificity, then the header's order
		// (stable: socket.io's order last); the first wins.
		if p.q > 0 && (best.name == "" || jsOr(best.q-p.q, float64(best.s-p.s), float64(p.o-best.o)) < 0) {
			best = p
			best.name = enc
		}
	}
	return best.name
}

// jsOr is JavaScript's a || b || c of numbers: the first that is neither
// 0 nor NaN, else the last.
func jsOr(v ...float64) float64 {
	for _, x := range v[:len(v)-1] {
		if x != 0 && !math.IsNaN(x) {
			return x
		}
	}
	return v[len(v)-1]
}

// jsNumber is the longest prefix JavaScript's parseFloat reads.
var jsNumber = regexp.MustCompile(`^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`)

// jsParseFloat is JavaScript's parseFloat: a number at the start of s
// (after white space), NaN when there is none.
func jsParseFloat(s string) float64 {
	m := jsNumber.FindString(strings.TrimLeft(s, " \t\n\v\f\r\u00a0\ufeff"))
	if m == "" {
		return math.NaN()
	}
	v, _ := strconv.ParseFloat(m, 64) // past float64's range: ±Inf, as in JavaScript
	return v
}
