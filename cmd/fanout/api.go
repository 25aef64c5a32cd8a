package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// api drives the REST side: one user, then the posts whose events the
// clients wait for.
type api struct {
	base  string // http://host:port, no trailing slash
	http  *http.Client
	token string
}

// tinyPNG is a valid 2×2 PNG, made once: both servers' upload paths see a
// real image (the Go server checks the content, not only the type).
var tinyPNG = func() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.NRGBA{R: 255, A: 255})
	img.Set(1, 1, color.NRGBA{B: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jsonCall sends body as JSON and decodes a JSON answer into out when the
// status is want.
func (a *api) jsonCall(ctx context.Context, method, path string, body, out any, want int) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, snippet(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// signupLogin creates a fresh user (unique e-mail) and logs in.
func (a *api) signupLogin(ctx context.Context) error {
	email := fmt.Sprintf("fanout-%d-%s@example.com", time.Now().UnixNano(), randomHex(4))
	password := "fanout-" + randomHex(8)
	var created struct {
		UserID string `json:"userId"`
	}
	if err := a.jsonCall(ctx, http.MethodPut, "/auth/signup",
		map[string]string{"email": email, "password": password, "name": "Fanout Bench"}, &created, http.StatusCreated); err != nil {
		return err
	}
	var login struct {
		Token  string `json:"token"`
		UserID string `json:"userId"`
	}
	if err := a.jsonCall(ctx, http.MethodPost, "/auth/login",
		map[string]string{"email": email, "password": password}, &login, http.StatusOK); err != nil {
		return err
	}
	if login.Token == "" {
		return fmt.Errorf("POST /auth/login: no token in the answer")
	}
	a.token = login.Token
	return nil
}

// postContent is the content of post seq: n bytes of words drawn at
// random from a few hundred common ones, seeded by seq (so every server
// gets the same posts), which compress about as a post's prose does (to
// about a third with gzip); n 0 is one short sentence.
func postContent(seq, n int) string {
	if n == 0 {
		return "Posted by cmd/fanout to measure event fan-out."
	}
	rng := mrand.New(mrand.NewPCG(uint64(seq), 0x5eed))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, proseWords[rng.IntN(len(proseWords))]...)
		if rng.IntN(12) == 0 {
			b = append(b, '.')
		}
		b = append(b, ' ')
	}
	b = b[:n]
	b[0] = 'A'
	if b[n-1] == ' ' { // the servers trim the content
		b[n-1] = '.'
	}
	return string(b)
}

// proseWords are common English words (postContent).
var proseWords = strings.Fields(`the of and to a in is it you that he was for on are with as I his they
be at one have this from or had by hot word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no most people
my over know water than call first who may down side been now find any new work part take get place
made live where after back little only round man year came show every good me give our under name
very through just form sentence great think say help low line differ turn cause much mean before move
right boy old too same tell does set three want air well also play small end put home read hand port
large spell add even land here must big high such follow act why ask men change went light kind off
need house picture try us again animal point mother world near build self earth father head stand own
page should country found answer school grow study still learn plant cover food sun four between state
keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late
run while press close night real life few north open seem together next white children begin got walk
example ease paper group always music those both mark often letter until mile river car feet care`)

// postForm is the multipart body of one create-post request.
func postForm(title, content string) (body []byte, contentType string, err error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("title", title); err != nil {
		return nil, "", err
	}
	if err := w.WriteField("content", content); err != nil {
		return nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="image"; filename="fanout.png"`)
	h.Set("Content-Type", "image/png")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(tinyPNG); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// newPostRequest builds the create-post request, ready to send, so that
// building it is not part of the measured time.
func (a *api) newPostRequest(ctx context.Context, title, content string) (*http.Request, error) {
	body, ct, err := postForm(title, content)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/feed/post", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.token)
	return req, nil
}

// finishPost reads the answer to a create-post request: 201 with a post
// that has an id.
func finishPost(resp *http.Response) error {
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST /feed/post: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /feed/post: status %d, want 201: %s", resp.StatusCode, snippet(raw))
	}
	var out struct {
		Message string `json:"message"`
		Post    struct {
			ID string `json:"_id"`
		} `json:"post"`
		Creator struct {
			ID string `json:"_id"`
		} `json:"creator"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("POST /feed/post: decode answer: %w", err)
	}
	if out.Post.ID == "" || out.Creator.ID == "" {
		return fmt.Errorf("POST /feed/post: answer lacks post._id or creator._id: %s", snippet(raw))
	}
	return nil
}

// snippet shortens a body for an error message.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
