package handlers

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	hexID       = regexp.MustCompile(`^[0-9a-f]{24}$`)
	isoTime     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	jwtText     = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	genImageURL = regexp.MustCompile(`^images/[0-9a-f]{32}(\.png|\.jpg|\.webp)$`)
)

// normalize replaces what differs between runs in a decoded JSON value:
// ids by their labels (or <id>), times, tokens and generated file names.
// It checks their format on the way, so a placeholder always stands for a
// well-formed value.
func (e *env) normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = e.normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = e.normalize(x)
		}
		return out
	case string:
		switch {
		case hexID.MatchString(v):
			if l, ok := e.labels[v]; ok {
				return l
			}
			return "<id>"
		case isoTime.MatchString(v):
			return "<time>"
		case jwtText.MatchString(v):
			return "<token>"
		case genImageURL.MatchString(v):
			return "images/<generated>" + genImageURL.FindStringSubmatch(v)[1]
		}
	}
	return v
}

// normalized decodes JSON and normalises it, re-encoded with indentation.
func (e *env) normalized(data []byte) []byte {
	e.t.Helper()
	var v any
	mustUnmarshal(e.t, data, &v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep the <placeholders> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(e.normalize(v)); err != nil {
		e.t.Fatal(err)
	}
	return out.Bytes()
}

// checkGolden compares normalised JSON with testdata/golden/<name>.json,
// or rewrites the file with -update.
func (e *env) checkGolden(name string, data []byte) {
	e.t.Helper()
	got := e.normalized(data)
	path := filepath.Join(goldenDir, name+".json")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Errorf("%s differs from golden file %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// checkJSON compares a body with expected JSON text after normalisation.
func (e *env) checkJSON(got []byte, want string) {
	e.t.Helper()
	if g, w := e.normalized(got), e.normalized([]byte(want)); !bytes.Equal(g, w) {
		e.t.Errorf("body:\n%s\nwant:\n%s", g, w)
	}
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}
