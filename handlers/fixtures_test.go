package handlers

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// pngBytes encodes a small w×h PNG.
func pngBytes(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 40), uint8(y * 40), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// noisyPNG is a PNG of random pixels, so it does not compress: about
// 4·side² bytes.
func noisyPNG(side int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// jpegBytes encodes a small JPEG.
func jpegBytes() []byte {
	img := image.NewGray(image.Rect(0, 0, 3, 3))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// webpBytes is a 1×1 lossless WebP (RIFF header, VP8L chunk), small enough
// to write down; there is no WebP encoder in the standard library.
func webpBytes() []byte {
	return []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
}

// fakePNG has the PNG signature but no valid header behind it: sniffing
// alone would take it for a PNG.
func fakePNG() []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("<script>alert(1)</script>"), 10)...)
}

// JWT helpers for building tokens the server did not issue.
type jwtMethod = jwt.SigningMethod

var (
	hs256   jwtMethod = jwt.SigningMethodHS256
	hs512   jwtMethod = jwt.SigningMethodHS512
	algNone jwtMethod = jwt.SigningMethodNone
	noneKey           = jwt.UnsafeAllowNoneSignatureType
)

func newJWT(m jwtMethod, c Claims) *jwt.Token { return jwt.NewWithClaims(m, c) }

func registered(iat, exp time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}
}

func TestFixturesAreImages(t *testing.T) {
	for name, data := range map[string][]byte{"png": pngBytes(2, 2), "jpeg": jpegBytes(), "webp": webpBytes()} {
		if _, err := sniffImage(bytes.NewReader(data)); err != nil {
			t.Errorf("%s fixture: %v", name, err)
		}
	}
	if _, err := sniffImage(bytes.NewReader(fakePNG())); err == nil {
		t.Error("fake PNG accepted")
	}
	if n := len(noisyPNG(160)); n < 64<<10 || n > 1<<20 {
		t.Errorf("noisy PNG has %d bytes, want between the image cap and the form allowance", n)
	}
}
