package handlers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ImageRefs is the part of store.Store the image sweep uses.
type ImageRefs interface {
	// ImageURLs returns the image URL of every post.
	ImageURLs(ctx context.Context) ([]string, error)
}

// ImageSweep removes image files that no post references. A create
// writes its file before it stores the post, so a crash between the two
// leaves a file behind that nothing will ever remove. Only files older
// than Age are candidates: a younger one may belong to a request still in
// flight, here or in another process sharing the directory (a cluster, or
// the Node app during a migration), whose post is not stored yet.
type ImageSweep struct {
	// Images.Dir is the directory to sweep (required).
	Images Images
	// Store tells which images are in use.
	Store ImageRefs
	// Age is how long a file must have gone unmodified before it can be
	// removed (required, positive).
	Age time.Duration
	// Now is the clock the age is measured with (required).
	Now func() time.Time
}

// SweepResult is what one sweep did.
type SweepResult struct {
	// Removed is how many files were removed.
	Removed int
	// Candidates is how many files were old enough to be removed if no
	// post referenced them.
	Candidates int
	// Skipped is true when the store listed no image at all while old
	// files were there: nothing was removed (see Sweep).
	Skipped bool
}

// Sweep removes, from the images directory, every regular file with a
// valid image name, last modified more than Age ago, that no post's image
// URL names. Anything else (directories, symlinks, hidden files) is left
// alone. A missing directory is an empty one.
//
// The files are listed before the store is asked, so a file that a post
// started to reference after the listing was young at the listing, and
// kept. If the store fails, nothing is removed.
//
// If the store lists no image at all while old files are there, nothing
// is removed either: that is what a wrong MONGODB_URI or database name
// looks like (an empty database next to a full images folder), and a
// sweep then would delete every image. Orphans left while the feed is
// empty wait for its first post.
func (s ImageSweep) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	if s.Age <= 0 || s.Now == nil || s.Store == nil || s.Images.Dir == "" {
		return res, errors.New("handlers: ImageSweep needs a positive Age, a clock, a store and Images.Dir")
	}
	root, err := os.OpenRoot(s.Images.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("images directory: %w", err)
	}
	defer root.Close()

	cutoff := s.Now().Add(-s.Age)
	candidates, err := oldImageFiles(root, cutoff)
	if err != nil {
		return res, err
	}
	res.Candidates = len(candidates)
	if len(candidates) == 0 {
		return res, nil
	}
	urls, err := s.Store.ImageURLs(ctx)
	if err != nil {
		return res, fmt.Errorf("list image URLs: %w", err)
	}
	if len(urls) == 0 {
		res.Skipped = true
		return res, nil
	}
	used := make(map[string]bool, len(urls))
	for _, u := range urls {
		used[referencedName(u)] = true
	}
	var errs []error
	for _, name := range candidates {
		if used[name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		switch err := s.Images.removeFile(root, name); {
		case err == nil:
			res.Removed++
		case !errors.Is(err, fs.ErrNotExist): // gone already: a delete got there first
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// oldImageFiles lists the regular files of root with a valid image name
// that were last modified before cutoff.
func oldImageFiles(root *os.Root, cutoff time.Time) ([]string, error) {
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("read images directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !validImageName(name) {
			continue
		}
		st, err := root.Lstat(name)
		if err != nil || !st.Mode().IsRegular() || !st.ModTime().Before(cutoff) {
			continue // gone meanwhile, not a plain file, or too young
		}
		names = append(names, name)
	}
	return names, nil
}

// referencedName is the file name an image URL points at: what follows
// its last slash or backslash. The Node app stored multer's path with the
// first backslash turned into a slash, so on Windows a URL may hold
// either; matching on the last part alone can only keep more files, never
// fewer.
func referencedName(imageURL string) string {
	return imageURL[strings.LastIndexAny(imageURL, `/\`)+1:]
}
