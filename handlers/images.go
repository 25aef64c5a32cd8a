package handlers

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// imageURLPrefix starts every imageUrl; the front end loads
// <server>/<imageUrl>, which Images.Register serves.
const imageURLPrefix = "images/"

// formAllowance is what an upload request may carry beyond the image: the
// title, content and multipart framing.
const formAllowance = 1 << 20

// imageTypes maps the sniffed types that are accepted to the extension of
// the stored file.
var imageTypes = map[string]string{
	"image/png":  ".png",
	"image/jpeg": ".jpg",
	"image/webp": ".webp",
}

// servedTypes is the Content-Type by extension for GET /images. Files of
// any other name (say, one the Node app stored) go out as
// application/octet-stream, so an uploaded HTML page can never be rendered
// from this origin.
var servedTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
}

// errNotImage: the upload is not an accepted image: not a PNG, JPEG or
// WebP, whatever its name and declared type say, or of too many pixels.
var errNotImage = errors.New("not an accepted PNG, JPEG or WebP image")

// Images stores uploaded post images in one directory and serves them.
// File names are always generated here; nothing the client sends becomes
// part of a path. Dir, MaxBytes and MaxPixels are required: Register and
// Posts.Register refuse a zero value.
type Images struct {
	// Dir is the images directory, created on the first upload.
	Dir string
	// MaxBytes caps one image; larger uploads are answered 413.
	MaxBytes int64
	// MaxPixels caps width × height of an upload. A few hundred kilobytes
	// of PNG can declare 10000×10000 pixels; the server reads only the
	// header, but every browser that shows the post decodes about 4 bytes
	// per pixel, 400 MB there. An
	// image past the cap is refused like a non-image (422), not with a
	// 413: its body is small, and 413 here always means bytes over
	// MaxBytes, which a client or proxy may act on differently.
	MaxPixels int64
	// Decoding bounds the memory of the uploads decoded at once (every
	// upload is decoded whole before it is stored).
	Decoding *DecodeLimit
	// Log receives failures to remove files no longer used.
	Log *slog.Logger
	// Observer, if not nil, is told of every file written and removed
	// (the server's metrics).
	Observer ImageObserver
}

// ImageObserver is told of the image files Images writes and removes,
// with their sizes. It is called on the request's goroutine and must not
// block.
type ImageObserver interface {
	// ImageStored: an upload of size bytes was written.
	ImageStored(size int64)
	// ImageRemoved: a file of size bytes was removed (replaced, deleted
	// with its post, or swept).
	ImageRemoved(size int64)
}

// validate reports a missing setting, a wiring bug: a zero cap would
// refuse every upload, and an empty Dir names no directory at all.
func (im Images) validate() error {
	switch {
	case im.MaxPixels <= 0:
		return errors.New("Images.MaxPixels must be positive")
	case im.MaxBytes <= 0:
		return errors.New("Images.MaxBytes must be positive")
	case im.Dir == "":
		return errors.New("Images.Dir is empty")
	case im.Decoding == nil:
		return errors.New("Images.Decoding is nil")
	}
	return nil
}

// checkSize is a 413 *Error for n bytes over the cap, else nil.
func (im Images) checkSize(n int64) error {
	if n > im.MaxBytes {
		return NewError(http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large (the limit is %d bytes).", im.MaxBytes))
	}
	return nil
}

// limitBody caps the request body of an upload, so an oversized request
// fails while it is read instead of filling the disk first.
func (im Images) limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, im.MaxBytes+formAllowance)
}

// open checks that the upload is within the cap (else a 413 *Error) and
// a real image of an accepted type (else errNotImage), and returns it
// opened at its start with the extension to store it under. The caller
// closes it.
func (im Images) open(ctx context.Context, fh *multipart.FileHeader) (multipart.File, string, error) {
	if err := im.checkSize(fh.Size); err != nil {
		return nil, "", err
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("open upload: %w", err)
	}
	ext, err := checkImage(ctx, f, fh.Size, im.MaxPixels, im.Decoding)
	if err != nil {
		_ = f.Close()
		return nil, "", err
	}
	return f, ext, nil
}

// Save checks the upload (see open) and writes it into the directory
// (see write). It returns the imageUrl ("images/<name>") to store with
// the post.
func (im Images) Save(ctx context.Context, fh *multipart.FileHeader) (imageURL string, err error) {
	src, ext, err := im.open(ctx, fh)
	if err != nil {
		return "", err
	}
	defer src.Close()
	return im.write(src, ext)
}

// write writes an upload open's checks passed into the directory under a
// new random name with the extension ext, with O_EXCL so no existing
// file is ever overwritten, and returns its imageUrl.
func (im Images) write(src io.Reader, ext string) (imageURL string, err error) {
	if err := os.MkdirAll(im.Dir, 0o750); err != nil {
		return "", fmt.Errorf("images directory: %w", err)
	}
	root, err := os.OpenRoot(im.Dir)
	if err != nil {
		return "", fmt.Errorf("images directory: %w", err)
	}
	defer root.Close()

	name := hex.EncodeToString(randomBytes(16)) + ext
	dst, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", fmt.Errorf("create image file: %w", err)
	}
	n, err := io.Copy(dst, io.LimitReader(src, im.MaxBytes+1))
	if err == nil { // over the cap only if the header's Size was wrong
		err = im.checkSize(n)
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = root.Remove(name) // never reported as stored, so not as removed
		return "", err
	}
	if im.Observer != nil {
		im.Observer.ImageStored(n)
	}
	return imageURLPrefix + name, nil
}

// Remove deletes the file behind an imageUrl. URLs that do not name a file
// directly inside the directory are refused, so a stored value can never
// make it delete anything else.
func (im Images) Remove(imageURL string) error {
	name, ok := strings.CutPrefix(imageURL, imageURLPrefix)
	if !ok || !validImageName(name) {
		return fmt.Errorf("image URL %q does not name a file in the images directory", imageURL)
	}
	root, err := os.OpenRoot(im.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return im.removeFile(root, name)
}

// removeFile removes name from root and tells the Observer, if any, of
// the size it had.
func (im Images) removeFile(root *os.Root, name string) error {
	var size int64
	if im.Observer != nil {
		if st, err := root.Lstat(name); err == nil {
			size = st.Size()
		}
	}
	if err := root.Remove(name); err != nil {
		return err
	}
	if im.Observer != nil {
		im.Observer.ImageRemoved(size)
	}
	return nil
}

// removeLogged is Remove for clean-ups: the request has succeeded, so a
// failure is only logged (a missing file is not even that).
func (im Images) removeLogged(imageURL string) {
	if err := im.Remove(imageURL); err != nil && !errors.Is(err, fs.ErrNotExist) {
		orDiscard(im.Log).Warn("could not remove image file", "imageUrl", imageURL, "err", err)
	}
}

// Register mounts GET and HEAD /images/:file. The route matches a single
// path segment, and the file is opened through os.Root, so neither "..",
// nor a symlink, nor an encoded slash leaves the directory; directories
// are never listed.
func (im Images) Register(r gin.IRouter) {
	if err := im.validate(); err != nil {
		panic("handlers: " + err.Error())
	}
	r.GET("/images/:file", im.serve)
	r.HEAD("/images/:file", im.serve)
}

// serve sends one image with caching validators and range support.
func (im Images) serve(c *gin.Context) {
	name := c.Param("file")
	f, st, ok := im.openServed(name)
	if !ok {
		im.fail(c, NewError(http.StatusNotFound, "Not found."))
		return
	}
	defer f.Close()
	ctype, ok := servedTypes[strings.ToLower(filepath.Ext(name))]
	if !ok {
		ctype = "application/octet-stream"
	}
	h := c.Writer.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	http.ServeContent(c.Writer, c.Request, name, st.ModTime(), f)
}

// openServed opens the file name of the directory for serve, if it is a
// regular file with a valid image name; anything else is not there.
func (im Images) openServed(name string) (*os.File, fs.FileInfo, bool) {
	if !validImageName(name) {
		return nil, nil, false
	}
	root, err := os.OpenRoot(im.Dir)
	if err != nil {
		return nil, nil, false
	}
	defer root.Close() // f stays open
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, false
	}
	return f, st, true
}

// fail answers err through Respond, the one error-to-status mapping.
func (im Images) fail(c *gin.Context, err error) { Respond(c, im.Log, err) }

// validImageName accepts a plain file name: no separators, no NUL, not
// hidden, not "." or "..". Names of files the Node app stored (an ISO date
// and the original name) pass.
func validImageName(name string) bool {
	return name != "" && len(name) <= 255 && !strings.HasPrefix(name, ".") &&
		!strings.ContainsAny(name, "/\\\x00") && filepath.IsLocal(name)
}

// checkImage identifies the upload by its content, reads its header (of
// at most maxPixels pixels) and decodes it whole: a PNG, JPEG or WebP
// signature and header in front of anything else, a truncated image, or
// an image with bytes after its end, is not an image. It returns the
// extension to store it under and leaves f at the start.
func checkImage(ctx context.Context, f io.ReadSeeker, size, maxPixels int64, decoding *DecodeLimit) (ext string, err error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read upload: %w", err)
	}
	ctype := http.DetectContentType(head[:n])
	ext, ok := imageTypes[ctype]
	if !ok {
		return "", fmt.Errorf("%w (content is %s)", errNotImage, ctype)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind upload: %w", err)
	}
	var cfg image.Config
	switch ctype {
	case "image/png":
		cfg, err = png.DecodeConfig(f)
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(f)
	case "image/webp":
		cfg, err = webp.DecodeConfig(f)
	}
	if err != nil {
		return "", fmt.Errorf("%w (%s header: %v)", errNotImage, ctype, err)
	}
	// Both sides are below 2^32 in every accepted format, so the product
	// fits in an int64.
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return "", fmt.Errorf("%w (%d×%d is %d pixels, the cap is %d)", errNotImage, cfg.Width, cfg.Height, px, maxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind upload: %w", err)
	}
	release, err := decoding.acquire(ctx, decodedBytes(cfg))
	if err != nil {
		return "", err
	}
	err = decodeWhole(f, ctype, size)
	release()
	if err != nil {
		return "", fmt.Errorf("%w (%s: %v)", errNotImage, ctype, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind upload: %w", err)
	}
	return ext, nil
}

// decodeWhole decodes the size bytes of f as ctype and checks that the
// image ends where the file does.
func decodeWhole(f io.ReadSeeker, ctype string, size int64) error {
	switch ctype {
	case "image/png":
		r := &countingReader{r: f} // the decoder reads exactly up to the end of IEND
		if _, err := png.Decode(r); err != nil {
			return err
		}
		if r.n != size {
			return fmt.Errorf("%d bytes after the image", size-r.n)
		}
	case "image/jpeg":
		if _, err := jpeg.Decode(f); err != nil {
			return err
		}
		// The decoder reads ahead: the end is checked where it must be,
		// the EOI marker in the file's last two bytes.
		var end [2]byte
		if _, err := f.Seek(size-2, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.ReadFull(f, end[:]); err != nil || end != [2]byte{0xff, 0xd9} {
			return errors.New("bytes after the image's end (EOI)")
		}
	case "image/webp":
		var hdr [8]byte // "RIFF" and the size of what follows
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			return err
		}
		if n := int64(binary.LittleEndian.Uint32(hdr[4:])); n+8 != size {
			return fmt.Errorf("the RIFF container holds %d bytes, the file %d", n+8, size)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := webp.Decode(f); err != nil {
			return err
		}
	}
	return nil
}

// decodedBytes is the memory a decoder takes for an image (its pixels,
// at the bytes per pixel of its colour model; YCbCr at its largest,
// 4:4:4).
func decodedBytes(cfg image.Config) int64 {
	bpp := int64(8)
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		bpp = 1
	case color.Gray16Model, color.Alpha16Model:
		bpp = 2
	case color.YCbCrModel:
		bpp = 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		bpp = 4
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
	}
	return int64(cfg.Width) * int64(cfg.Height) * bpp
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// DecodeLimit bounds the memory of the images decoded at once: each
// decode takes its image's decoded size (decodedBytes) from a budget,
// and waits while the budget cannot give it.
type DecodeLimit struct {
	sem    *semaphore.Weighted
	budget int64
}

// NewDecodeLimit allows decodes of budget bytes in all at once.
func NewDecodeLimit(budget int64) *DecodeLimit {
	return &DecodeLimit{sem: semaphore.NewWeighted(budget), budget: budget}
}

// acquire takes n bytes of the budget (all of it for an image larger than
// the budget), waiting for them while ctx lasts; release gives them back.
func (l *DecodeLimit) acquire(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, 1), l.budget)
	if err := l.sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("wait to decode an upload: %w", err)
	}
	return func() { l.sem.Release(n) }, nil
}

// randomBytes returns n bytes from crypto/rand (which cannot fail).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
