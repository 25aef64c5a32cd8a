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
			if err := p.Images.checkSize(f.file.Size); err != nil {
				return postForm{}, cleanup, err
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

// notImageAs turns errNotImage into a 422 with message; other errors
// (413, I/O) pass unchanged.
func notImageAs(err error, message string) error {
	if errors.Is(err, errNotImage) {
		return &Error{Status: http.StatusUnprocessableEntity, Message: message, Err: err}
	}
	return err
}
