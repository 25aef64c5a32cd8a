package handlers

import "feedrt/store"

// EventPosts is the Socket.IO event every post change is broadcast on.
const EventPosts = "posts"

// Actions of a posts event.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// CreatorView is the public part of a post's author: only id and name ever
// leave the server (the Node app leaked the whole user document, password
// hash included).
type CreatorView struct {
	// ID is the user's 24-hex id.
	ID string `json:"_id"`
	// Name is the user's display name.
	Name string `json:"name"`
}

// PostView is a post as the contract shapes it in responses and events:
// mongoose field names, 24-hex ids, times as JavaScript ISO strings.
type PostView struct {
	// ID is the post's 24-hex id.
	ID      string `json:"_id"`
	Title   string `json:"title"`
	Content string `json:"content"`
	// ImageURL is "images/<file>", relative to the server's root.
	ImageURL string      `json:"imageUrl"`
	Creator  CreatorView `json:"creator"`
	// CreatedAt and UpdatedAt are UTC with milliseconds, like
	// JavaScript's Date.toISOString().
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// PostEvent is the payload of a create or update event:
// {"action": "create"|"update", "post": Post}.
type PostEvent struct {
	// Action is ActionCreate or ActionUpdate.
	Action string `json:"action"`
	// Post is the post as stored after the change.
	Post PostView `json:"post"`
}

// DeleteEvent is the payload of a delete event: {"action": "delete",
// "post": "<24-hex id>"} (the id only, as the Node app sent it).
type DeleteEvent struct {
	// Action is ActionDelete.
	Action string `json:"action"`
	// Post is the deleted post's 24-hex id.
	Post string `json:"post"`
}

// viewPost renders a stored post.
func viewPost(p store.Post) PostView {
	return PostView{
		ID:        p.ID.Hex(),
		Title:     p.Title,
		Content:   p.Content,
		ImageURL:  p.ImageURL,
		Creator:   viewCreator(p.Creator),
		CreatedAt: jsTime(p.CreatedAt),
		UpdatedAt: jsTime(p.UpdatedAt),
	}
}

// viewCreator renders a post's author.
func viewCreator(c store.Creator) CreatorView {
	return CreatorView{ID: c.ID.Hex(), Name: c.Name}
}

// listResponse is the 200 body of GET /feed/posts.
type listResponse struct {
	Message    string     `json:"message"`
	Posts      []PostView `json:"posts"`
	TotalItems int        `json:"totalItems"`
}

// createResponse is the 201 body of POST /feed/post.
type createResponse struct {
	Message string      `json:"message"`
	Post    PostView    `json:"post"`
	Creator CreatorView `json:"creator"`
}

// postResponse is the body of GET and PUT /feed/post/:postId.
type postResponse struct {
	Message string   `json:"message"`
	Post    PostView `json:"post"`
}

// messageResponse is a body with only a message, like DELETE's.
type messageResponse struct {
	Message string `json:"message"`
}
