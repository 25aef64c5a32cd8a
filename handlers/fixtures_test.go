package handlers

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
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

// testMaxPixels is the pixel cap of the test env: the server's default,
// 40 megapixels.
const testMaxPixels = 40_000_000

// blankPNG is a valid w×h PNG of 1-bit grey pixels, all black, written
// chunk by chunk: image/png would first allocate the whole image. Its
// zeros compress about a thousandfold, so 10000×10000 is some 12 KB that
// a browser decodes into 400 MB.
func blankPNG(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // bit depth 1, grey, deflate, no filter, no interlace
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	z := zlib.NewWriter(&idat)
	row := make([]byte, 1+(w+7)/8) // filter type 0, then the packed pixels
	for range h {
		_, _ = z.Write(row)
	}
	_ = z.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
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

// pngHeaderThen is a real PNG's signature and IHDR chunk followed by
// rest: its header reads as a 2×2 image.
func pngHeaderThen(rest []byte) []byte {
	return append(bytes.Clone(pngBytes(2, 2)[:8+25]), rest...)
}

// webpVP8XThen is a WebP's RIFF header and a VP8X chunk (an extended
// 2×2 image) followed by rest, the RIFF size matching the file's.
func webpVP8XThen(rest []byte) []byte {
	vp8x := []byte("VP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00\x00")
	body := append(append([]byte("WEBP"), vp8x...), rest...)
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}

// cut is b without its last n bytes.
func cut(b []byte, n int) []byte { return bytes.Clone(b[:len(b)-n]) }

// plus is b with more after it.
func plus(b []byte, more string) []byte { return append(bytes.Clone(b), more...) }

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
	check := func(data []byte) error {
		_, err := checkImage(t.Context(), bytes.NewReader(data), int64(len(data)), testMaxPixels, NewDecodeLimit(testMaxPixels*8))
		return err
	}
	for name, data := range map[string][]byte{"png": pngBytes(2, 2), "jpeg": jpegBytes(), "webp": webpBytes()} {
		if err := check(data); err != nil {
			t.Errorf("%s fixture: %v", name, err)
		}
	}
	for name, data := range map[string][]byte{"fake PNG": fakePNG(), "PNG header and a page": pngHeaderThen([]byte("<html><script>alert(1)</script></html>")),
		"WebP VP8X and garbage": webpVP8XThen(bytes.Repeat([]byte{0x5a}, 64))} {
		if err := check(data); !errors.Is(err, errNotImage) {
			t.Errorf("%s: %v, want it refused as no image", name, err)
		}
	}
	// blankPNG writes real PNGs: a small one decodes in full.
	img, err := png.Decode(bytes.NewReader(blankPNG(13, 7)))
	if err != nil || img.Bounds() != image.Rect(0, 0, 13, 7) {
		t.Errorf("blankPNG(13, 7) decodes to %v, %v", img, err)
	}
	if n := len(blankPNG(10000, 10000)); n > 64<<10 {
		t.Errorf("blankPNG(10000, 10000) has %d bytes, want it under the test cap of 64 KiB", n)
	}
	if n := len(noisyPNG(160)); n < 64<<10 || n > 1<<20 {
		t.Errorf("noisy PNG has %d bytes, want between the image cap and the form allowance", n)
	}
}

// noise is n random bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}
