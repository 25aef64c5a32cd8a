package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"feedrt/store"
)

// CreatePost stores the post and appends its id to the creator's posts, as
// the Node app does, in an order that needs no transaction: the creator is
// looked up first (store.ErrNotFound, nothing written), then the post is
// inserted, then its id pushed. If the insert or the push fails in a way
// that may have left the post behind, the post is deleted again, so a
// failed CreatePost leaves no post a client could see. p is changed only
// if the post was stored.
func (s *Store) CreatePost(ctx context.Context, p *store.Post) error {
	const op = "create post"
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()

	var creator struct {
		Name string `bson:"name"`
	}
	err = s.users.FindOne(cctx, bson.D{{Key: fID, Value: bson.ObjectID(p.Creator.ID)}},
		options.FindOne().SetProjection(bson.D{{Key: fName, Value: 1}})).Decode(&creator)
	if err != nil {
		return s.fail(ctx, "creator of new post", err)
	}

	t := s.cfg.clock.Now()
	id, creatorID := store.NewIDAt(t), p.Creator.ID
	doc := newPostDoc{Doc: postDoc{
		ID:        bson.ObjectID(id),
		Title:     p.Title,
		ImageURL:  p.ImageURL,
		Content:   p.Content,
		Creator:   bson.ObjectID(creatorID),
		CreatedAt: t,
		UpdatedAt: t,
	}}
	if _, err := s.posts.InsertOne(cctx, doc); err != nil {
		if !refusedByServer(err) {
			// Lost connection or timed out after sending: the insert may
			// have happened.
			s.undoCreatePost(ctx, id, creatorID)
		}
		return s.fail(ctx, op, err)
	}

	if err := s.pushPost(cctx, creatorID, id, t); err != nil {
		s.undoCreatePost(ctx, id, creatorID)
		return s.fail(ctx, "add new post to its creator", err)
	}

	*p = store.Post{
		ID:        id,
		Title:     doc.Doc.Title,
		Content:   doc.Doc.Content,
		ImageURL:  doc.Doc.ImageURL,
		Creator:   store.Creator{ID: creatorID, Name: creator.Name},
		CreatedAt: t,
		UpdatedAt: t,
	}
	return nil
}

// pushPost appends a post id to its creator's posts, updating updatedAt
// and __v as mongoose's save does.
func (s *Store) pushPost(ctx context.Context, creator, id store.ID, t time.Time) error {
	unlock, err := s.locks.lock(ctx, creator)
	if err != nil {
		return err
	}
	defer unlock()
	res, err := s.users.UpdateByID(ctx, bson.ObjectID(creator), bson.D{
		{Key: "$push", Value: bson.D{{Key: fPosts, Value: bson.ObjectID(id)}}},
		{Key: "$set", Value: bson.D{{Key: fUpdatedAt, Value: t}}},
		{Key: "$inc", Value: bson.D{{Key: fVersion, Value: 1}}},
	})
	if err == nil && res.MatchedCount == 0 {
		err = fmt.Errorf("creator %s vanished: %w", creator.Hex(), store.ErrNotFound)
	}
	return err
}

// pullPost removes a post id from its creator's posts. Matching on posts
// too leaves updatedAt and __v alone if the id is not (or no longer) there.
func (s *Store) pullPost(ctx context.Context, creator, id store.ID) error {
	unlock, err := s.locks.lock(ctx, creator)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = s.users.UpdateOne(ctx, bson.D{{Key: fID, Value: bson.ObjectID(creator)}, {Key: fPosts, Value: bson.ObjectID(id)}}, bson.D{
		{Key: "$pull", Value: bson.D{{Key: fPosts, Value: bson.ObjectID(id)}}},
		{Key: "$set", Value: bson.D{{Key: fUpdatedAt, Value: s.cfg.clock.Now()}}},
		{Key: "$inc", Value: bson.D{{Key: fVersion, Value: 1}}},
	})
	return err
}

// undoCreatePost removes what a failed CreatePost may have written: first
// the post (which clients would see), then its id in the creator's posts
// (which they would not). It runs even if the caller's ctx is cancelled,
// since a cancelled request must not leave a post behind, but is bounded
// by the call timeout. What it cannot undo is logged.
func (s *Store) undoCreatePost(ctx context.Context, id, creator store.ID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.callTimeout)
	defer cancel()
	if _, err := s.posts.DeleteOne(ctx, bson.D{{Key: fID, Value: bson.ObjectID(id)}}); err != nil {
		s.cfg.log.Error("mongostore: a failed CreatePost may have left its post behind",
			"post", id.Hex(), "error", err)
	}
	if err := s.pullPost(ctx, creator, id); err != nil {
		s.cfg.log.Error("mongostore: a failed CreatePost may have left a post id in its creator's posts",
			"post", id.Hex(), "user", creator.Hex(), "error", err)
	}
}

// refusedByServer reports whether the server answered err, so the write it
// refused did not happen. Network errors and timeouts are not answers.
func refusedByServer(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && !unavailable(err)
}

// PostByID returns the post with its creator's current name.
func (s *Store) PostByID(ctx context.Context, id store.ID) (store.Post, error) {
	op := "find post " + id.Hex()
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return store.Post{}, err
	}
	defer cancel()

	var d postDoc
	err = s.posts.FindOne(cctx, bson.D{{Key: fID, Value: bson.ObjectID(id)}},
		options.FindOne().SetProjection(postProjection)).Decode(&d)
	if err != nil {
		return store.Post{}, s.fail(ctx, op, err)
	}
	posts := []store.Post{d.post()}
	if err := s.fillCreatorNames(cctx, posts); err != nil {
		return store.Post{}, s.fail(ctx, op, err)
	}
	return posts[0], nil
}

// ListPosts returns a page of posts, newest first (ties broken by id, so
// pages never overlap), and the total count. A limit of zero or less returns
// no posts, only the total. The slice is never nil, so it encodes as [].
func (s *Store) ListPosts(ctx context.Context, skip, limit int) ([]store.Post, int, error) {
	const op = "list posts"
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return nil, 0, err
	}
	defer cancel()
	skip = max(skip, 0)

	// CountDocuments counts the documents; estimatedDocumentCount reads
	// collection metadata, which can be off after an unclean shutdown.
	total, err := s.posts.CountDocuments(cctx, bson.D{})
	if err != nil {
		return nil, 0, s.fail(ctx, op, err)
	}
	posts := []store.Post{}
	if limit <= 0 || int64(skip) >= total {
		return posts, int(total), nil
	}

	cur, err := s.posts.Find(cctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: fCreatedAt, Value: -1}, {Key: fID, Value: -1}}).
		SetSkip(int64(skip)).
		SetLimit(int64(limit)).
		SetProjection(postProjection))
	if err != nil {
		return nil, 0, s.fail(ctx, op, err)
	}
	var docs []postDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, 0, s.fail(ctx, op, err)
	}
	for _, d := range docs {
		posts = append(posts, d.post())
	}
	if err := s.fillCreatorNames(cctx, posts); err != nil {
		return nil, 0, s.fail(ctx, op, err)
	}
	return posts, int(total), nil
}

// fillCreatorNames sets Creator.Name of each post with one query for all
// creators (like mongoose's populate), not one per post. A creator that no
// longer exists leaves the name empty rather than hiding the post.
func (s *Store) fillCreatorNames(ctx context.Context, posts []store.Post) error {
	ids := make([]store.ID, 0, len(posts))
	seen := make(map[store.ID]bool, len(posts))
	for _, p := range posts {
		if !seen[p.Creator.ID] {
			seen[p.Creator.ID] = true
			ids = append(ids, p.Creator.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cur, err := s.users.Find(ctx, bson.D{{Key: fID, Value: bson.D{{Key: "$in", Value: oids(ids)}}}},
		options.Find().SetProjection(bson.D{{Key: fName, Value: 1}}))
	if err != nil {
		return err
	}
	var users []struct {
		ID   bson.ObjectID `bson:"_id"`
		Name string        `bson:"name"`
	}
	if err := cur.All(ctx, &users); err != nil {
		return err
	}
	names := make(map[store.ID]string, len(users))
	for _, u := range users {
		names[store.ID(u.ID)] = u.Name
	}
	for i := range posts {
		posts[i].Creator.Name = names[posts[i].Creator.ID]
	}
	return nil
}

// UpdatePost sets title, content, image URL (unless p's is empty) and
// updatedAt in one atomic update that returns the post as it was before,
// so the image it replaced is known; p is filled from the result. p's
// creator and creation time are ignored.
func (s *Store) UpdatePost(ctx context.Context, p *store.Post) (replaced string, err error) {
	op := "update post " + p.ID.Hex()
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return "", err
	}
	defer cancel()

	at := s.cfg.clock.Now()
	set := bson.D{
		{Key: fTitle, Value: p.Title},
		{Key: fContent, Value: p.Content},
		{Key: fUpdatedAt, Value: at},
	}
	if p.ImageURL != "" {
		set = append(set, bson.E{Key: fImageURL, Value: p.ImageURL})
	}
	var before postDoc
	err = s.posts.FindOneAndUpdate(cctx, bson.D{{Key: fID, Value: bson.ObjectID(p.ID)}},
		bson.D{{Key: "$set", Value: set}},
		// No projection: FerretDB v1 does not implement one for
		// findAndModify, and postDoc ignores the fields it does not name.
		options.FindOneAndUpdate().SetReturnDocument(options.Before),
	).Decode(&before)
	if err != nil {
		return "", s.fail(ctx, op, err)
	}
	after := before.post()
	after.Title, after.Content, after.UpdatedAt = p.Title, p.Content, at
	if p.ImageURL != "" && p.ImageURL != after.ImageURL {
		replaced, after.ImageURL = after.ImageURL, p.ImageURL
	}
	posts := []store.Post{after}
	if err := s.fillCreatorNames(cctx, posts); err != nil {
		return "", s.fail(ctx, op, err)
	}
	*p = posts[0]
	return replaced, nil
}

// DeletePost removes the post and its id from the creator's posts. The id
// is pulled first and the post deleted second: if the second step fails,
// the post is still there and a retry finishes the job, whereas the other
// order would leave a dangling id that no retry reaches.
func (s *Store) DeletePost(ctx context.Context, id store.ID) (imageURL string, err error) {
	op := "delete post " + id.Hex()
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return "", err
	}
	defer cancel()

	var d struct {
		Creator bson.ObjectID `bson:"creator"`
	}
	err = s.posts.FindOne(cctx, bson.D{{Key: fID, Value: bson.ObjectID(id)}},
		options.FindOne().SetProjection(bson.D{{Key: fCreator, Value: 1}})).Decode(&d)
	if err != nil {
		return "", s.fail(ctx, op, err)
	}
	if err := s.pullPost(cctx, store.ID(d.Creator), id); err != nil {
		return "", s.fail(ctx, "remove post from its creator", err)
	}
	// The deleted document itself tells which image it had at that moment
	// (an update may have replaced it since the read above).
	var gone postDoc
	err = s.posts.FindOneAndDelete(cctx, bson.D{{Key: fID, Value: bson.ObjectID(id)}}).Decode(&gone)
	if errors.Is(err, mongo.ErrNoDocuments) { // a concurrent DeletePost got there first
		return "", fmt.Errorf("mongostore: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return "", s.fail(ctx, op, err)
	}
	return gone.ImageURL, nil
}

// ImageURLs reads the imageUrl of every post with a projection, so only
// that field crosses the wire, and decodes the cursor one document at a
// time rather than holding a batch of structs. A post without the field
// gives "". A non-string imageUrl (not something mongoose writes) is an
// error, so the sweep removes nothing rather than guess.
func (s *Store) ImageURLs(ctx context.Context) ([]string, error) {
	const op = "list image URLs"
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()

	cur, err := s.posts.Find(cctx, bson.D{},
		options.Find().SetProjection(bson.D{{Key: fID, Value: 0}, {Key: fImageURL, Value: 1}}))
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer cur.Close(cctx)
	urls := []string{}
	for cur.Next(cctx) {
		var d struct {
			ImageURL string `bson:"imageUrl"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, s.fail(ctx, op, err)
		}
		urls = append(urls, d.ImageURL)
	}
	if err := cur.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return urls, nil
}
