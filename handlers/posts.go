package handlers

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"feedrt/store"
)

// Messages of the feed routes, as the Node app sent them.
const (
	msgPostInvalid   = "Validation failed, entered data is incorrect."
	msgNoImage       = "No image provided."
	msgNoFilePicked  = "No file picked."
	msgPostNotFound  = "Could not find post."
	msgNotAuthorized = "Not authorized!"
)

// PostStore is the part of store.Store the feed routes use.
// Its methods behave as documented on store.Store.
type PostStore interface {
	// CreatePost stores p and fills in id, times and creator name.
	CreatePost(ctx context.Context, p *store.Post) error
	// PostByID finds a post, creator name filled in.
	PostByID(ctx context.Context, id store.ID) (store.Post, error)
	// ListPosts returns a page, newest first, and the total count.
	ListPosts(ctx context.Context, skip, limit int) ([]store.Post, int, error)
	// UpdatePost replaces title, content and (if p's is not empty) image
	// URL of p.ID, and returns the image URL it replaced, if any.
	UpdatePost(ctx context.Context, p *store.Post) (replaced string, err error)
	// DeletePost removes a post and returns the image URL it had.
	DeletePost(ctx context.Context, id store.ID) (imageURL string, err error)
}

// Posts serves the feed: list, create, read, update and delete posts, all
// behind the token middleware. Every change that was stored is announced
// through Broadcaster afterwards, and only then.
type Posts struct {
	// Store keeps the posts (required).
	Store PostStore
	// Broadcaster announces stored changes (nil: none are announced).
	Broadcaster Broadcaster
	// Images stores the uploads; Posts does not serve them, register
	// Images itself for that.
	Images Images
	// Tokens guards every feed route (required).
	Tokens *Tokens
	// PerPage is the page size of the list (required, at least 1).
	PerPage int
	// MaxTitleLength and MaxContentLength cap title and content, in
	// JavaScript characters after trimming (required: the Node app's
	// multer let each be a megabyte, which every socket then queued).
	MaxTitleLength, MaxContentLength int
	// Log receives the detail of 5xx answers (nil: discarded).
	Log *slog.Logger
}

// Register mounts the /feed routes.
func (p Posts) Register(r gin.IRouter) {
	if p.Tokens == nil {
		panic("handlers: Posts.Tokens is nil")
	}
	if err := p.Images.validate(); err != nil {
		panic("handlers: Posts." + err.Error())
	}
	if p.PerPage < 1 {
		panic("handlers: Posts.PerPage must be at least 1")
	}
	if p.MaxTitleLength < 5 || p.MaxContentLength < 5 {
		panic("handlers: Posts.MaxTitleLength and MaxContentLength must be at least 5")
	}
	if p.Store == nil {
		panic("handlers: Posts.Store is nil")
	}
	g := r.Group("/feed", p.Tokens.Middleware(p.Log), notFoundAs(msgPostNotFound))
	g.GET("/posts", p.list)
	g.POST("/post", p.create)
	g.GET("/post/:postId", p.get)
	g.PUT("/post/:postId", p.update)
	g.DELETE("/post/:postId", p.delete)
}

// list answers one page of posts, newest first, and the total count.
func (p Posts) list(c *gin.Context) {
	skip := pageSkip(parsePage(c.Query("page")), p.PerPage)
	posts, total, err := p.Store.ListPosts(c.Request.Context(), skip, p.PerPage)
	if err != nil {
		p.fail(c, err)
		return
	}
	views := make([]PostView, 0, len(posts))
	for _, post := range posts {
		views = append(views, viewPost(post))
	}
	c.JSON(http.StatusOK, listResponse{Message: "Fetched posts successfully.", Posts: views, TotalItems: total})
}

// create validates the form, stores the image and then the post. If the
// post cannot be stored, the image file is removed again.
func (p Posts) create(c *gin.Context) {
	userID, err := requireUser(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	form, cleanup, err := p.readForm(c)
	defer cleanup()
	if err != nil {
		p.fail(c, err)
		return
	}
	if form.file == nil {
		p.fail(c, validationError(msgNoImage, nil))
		return
	}
	imageURL, err := p.Images.Save(c.Request.Context(), form.file)
	if err != nil {
		p.fail(c, notImageAs(err, msgNoImage))
		return
	}
	post := store.Post{Title: form.title, Content: form.content, ImageURL: imageURL, Creator: store.Creator{ID: userID}}
	if err := p.Store.CreatePost(c.Request.Context(), &post); err != nil {
		p.Images.removeLogged(imageURL)
		if errors.Is(err, store.ErrNotFound) { // the token's user is gone
			err = &Error{Status: http.StatusNotFound, Message: msgUserNotFound, Err: err}
		}
		p.fail(c, err)
		return
	}
	view := viewPost(post)
	p.broadcast(PostEvent{Action: ActionCreate, Post: view})
	c.JSON(http.StatusCreated, createResponse{Message: "Post created successfully!", Post: view, Creator: view.Creator})
}

// get answers one post. Unknown and malformed ids are both 404.
func (p Posts) get(c *gin.Context) {
	id, err := store.ParseID(c.Param("postId"))
	if err != nil {
		p.fail(c, err)
		return
	}
	post, err := p.Store.PostByID(c.Request.Context(), id)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, postResponse{Message: "Post fetched.", Post: viewPost(post)})
}

// owned loads the post of the postId parameter and checks that the
// authenticated user created it: 404 if there is no such post, 403 if it
// is someone else's.
func (p Posts) owned(c *gin.Context) (store.Post, error) {
	userID, err := requireUser(c)
	if err != nil {
		return store.Post{}, err
	}
	id, err := store.ParseID(c.Param("postId"))
	if err != nil {
		return store.Post{}, err
	}
	post, err := p.Store.PostByID(c.Request.Context(), id)
	if err != nil {
		return store.Post{}, err
	}
	if post.Creator.ID != userID {
		return store.Post{}, NewError(http.StatusForbidden, msgNotAuthorized)
	}
	return post, nil
}

// update replaces title, content and image of the user's own post. The
// image is either a new file or the "image" text field, which normally
// holds the post's current imageUrl. Any image text keeps the stored image:
// the course front end sends "undefined" when its author edits a post that
// arrived through a posts event, and the Node app then stored that text and
// deleted the image file; a client-chosen path is never stored. A new file
// is removed again if the post cannot be stored; the one it replaced (as
// the store reports it) only once it was.
func (p Posts) update(c *gin.Context) {
	form, cleanup, err := p.readForm(c)
	defer cleanup()
	if err != nil {
		p.fail(c, err)
		return
	}
	if form.file == nil && form.imageText == "" {
		p.fail(c, validationError(msgNoFilePicked, nil))
		return
	}
	var upload multipart.File
	var ext string
	if form.file != nil {
		// Checked before the look-up so a bad upload costs no database
		// round trip; a rejected file counts as no file, as with multer's
		// fileFilter in the Node app.
		if upload, ext, err = p.Images.open(c.Request.Context(), form.file); err != nil {
			p.fail(c, notImageAs(err, msgNoFilePicked))
			return
		}
		defer upload.Close()
	}
	post, err := p.owned(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	newURL := "" // the store keeps the stored image
	if upload != nil {
		if newURL, err = p.Images.write(upload, ext); err != nil {
			p.fail(c, err)
			return
		}
	}
	post.Title, post.Content, post.ImageURL = form.title, form.content, newURL
	replaced, err := p.Store.UpdatePost(c.Request.Context(), &post)
	if err != nil {
		if newURL != "" {
			p.Images.removeLogged(newURL)
		}
		p.fail(c, err)
		return
	}
	// The store says which image the update took out, read atomically
	// with it: with concurrent edits of one post, each removes the file
	// its own update replaced, and none removes a file still in use.
	if replaced != "" {
		p.Images.removeLogged(replaced)
	}
	view := viewPost(post)
	p.broadcast(PostEvent{Action: ActionUpdate, Post: view})
	c.JSON(http.StatusOK, postResponse{Message: "Post updated!", Post: view})
}

// delete removes the post, then its image file.
func (p Posts) delete(c *gin.Context) {
	post, err := p.owned(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	image, err := p.Store.DeletePost(c.Request.Context(), post.ID)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.Images.removeLogged(image) // the post's image when it was deleted
	p.broadcast(DeleteEvent{Action: ActionDelete, Post: post.ID.Hex()})
	c.JSON(http.StatusOK, messageResponse{Message: "Deleted post."})
}

// broadcast announces a stored change to every real-time client.
func (p Posts) broadcast(payload any) {
	if p.Broadcaster != nil {
		p.Broadcaster.Broadcast(EventPosts, payload)
	}
}

// fail answers err through Respond, the one error-to-status mapping.
func (p Posts) fail(c *gin.Context, err error) { Respond(c, p.Log, err) }

// parsePage reads the page query parameter: anything but a positive
// integer that fits an int is page 1.
func parsePage(raw string) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pageSkip is (page-1)*perPage, saturating instead of overflowing: a page
// beyond any data is just empty. perPage is positive (Posts.Register).
func pageSkip(page, perPage int) int {
	if page <= 1 {
		return 0
	}
	if page-1 > math.MaxInt/perPage {
		return math.MaxInt
	}
	return (page - 1) * perPage
}
