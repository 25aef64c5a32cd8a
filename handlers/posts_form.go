package handlers

import (
	"errors"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"
)

// multipartMemory is how much of a multipart body is held in memory; the
// rest of an upload goes to a temporary file until the request ends.
const multipartMemory = 1 << 20

// postForm is the multipart body of create and update, as multer and
// express-validator's trim() left it in the Node app.
type postForm struct {
	title, content string
	// file is the "image" file part, if there was one.
	file *multipart.FileHeader
	// imageText is the "image" text field: on update, the post's current
	// imageUrl when the image is kept.
	imageText string
}

// readForm parses the multipart body within the upload size limits and
// validates title and content (422 with the fields). A body that is not
// multipart is an empty form (the Node app ignored it too), so validation
// answers it. The returned clean-up removes the temporary files of the
// upload and must always be called.
func (p Posts) readForm(c *gin.Context) (postForm, func(), error) {
	p.Images.limitBody(c)
	req := c.Request
	err := req.ParseMultipartForm(multipartMemory)
	cleanup := func() {
		if req.MultipartForm != nil {
			_ = req.MultipartForm.RemoveAll()
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, http.ErrNotMultipart):
	case errors.As(err, &tooBig):
		return postForm{}, cleanup, err
	case errors.Is(err, multipart.ErrMessageTooLarge):
		return postForm{}, cleanup, &Error{Status: http.StatusRequestEntityTooLarge, Message: "Request body too large.", Err: err}
	default:
		return postForm{}, cleanup, &Error{Status: http.StatusBadRequest, Message: "Invalid multipart body.", Err: err}
	}
	f := postForm{
		title:     jsTrim(req.PostForm.Get("title")),
		content:   jsTrim(req.PostForm.Get("content")),
		imageText: req.PostForm.Get("image"),
	}
	if req.MultipartForm != nil {
		if files := req.MultipartForm.File["image"]; len(files) > 0 {
			f.file = files[0]
			if f.file.Size > p.Images.MaxBytes {
				return postForm{}, cleanup, p.Images.tooLarge()
			}
		}
	}
	if fields := f.validate(p.MaxTitleLength, p.MaxContentLength); len(fields) > 0 {
		return postForm{}, cleanup, validationError(msgPostInvalid, fields)
	}
	return f, cleanup, nil
}

// validate applies the Node app's rules, title and content trimmed and
// at least 5 characters each, and this server's caps on their length.
func (f postForm) validate(maxTitle, maxContent int) []FieldError {
	var fields []FieldError
	if n := jsLen(f.title); n < 5 || n > maxTitle {
		fields = append(fields, fieldError("title", msgInvalidValue, f.title))
	}
	if n := jsLen(f.content); n < 5 || n > maxContent {
		fields = append(fields, fieldError("content", msgInvalidValue, f.content))
	}
	return fields
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
	if form.file != nil {
		// Checked before the look-up so a bad upload costs no database
		// round trip; a rejected file counts as no file, as with multer's
		// fileFilter in the Node app.
		if err := p.Images.check(form.file); err != nil {
			p.fail(c, notImageAs(err, msgNoFilePicked))
			return
		}
	}
	post, err := p.owned(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	newURL := "" // the store keeps the stored image
	if form.file != nil {
		if newURL, err = p.Images.Save(form.file); err != nil {
			p.fail(c, notImageAs(err, msgNoFilePicked))
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

// notImageAs turns errNotImage into a 422 with message; other errors
// (413, I/O) pass unchanged.
func notImageAs(err error, message string) error {
	if errors.Is(err, errNotImage) {
		return &Error{Status: http.StatusUnprocessableEntity, Message: message, Err: err}
	}
	return err
}
