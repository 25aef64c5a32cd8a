package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"feedrt/store"
)

// CreateUser inserts the user. The unique index on email makes a second
// sign-up with the same address fail with store.ErrConflict even when both
// race. u is changed only if the user was stored.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	const op = "create user"
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()

	t := s.cfg.clock.Now()
	status := u.Status
	if status == "" {
		status = store.DefaultStatus
	}
	doc := newUserDoc{Doc: userDoc{
		ID:        bson.ObjectID(store.NewIDAt(t)),
		Email:     u.Email,
		Password:  u.Password,
		Name:      u.Name,
		Status:    &status,
		Posts:     []bson.ObjectID{},
		CreatedAt: t,
		UpdatedAt: t,
	}}
	if _, err := s.users.InsertOne(cctx, doc); err != nil {
		return s.fail(ctx, op, err)
	}
	*u = doc.Doc.user()
	return nil
}

// UserByEmail finds a user by exact e-mail; callers normalise it first.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.findUser(ctx, "find user by e-mail", bson.D{{Key: fEmail, Value: email}})
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id store.ID) (store.User, error) {
	return s.findUser(ctx, "find user "+id.Hex(), bson.D{{Key: fID, Value: bson.ObjectID(id)}})
}

func (s *Store) findUser(ctx context.Context, op string, filter bson.D) (store.User, error) {
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return store.User{}, err
	}
	defer cancel()

	var d userDoc
	if err := s.users.FindOne(cctx, filter).Decode(&d); err != nil {
		return store.User{}, s.fail(ctx, op, err)
	}
	return d.user(), nil
}

// UpdateUserStatus sets the status and, as mongoose's timestamps do,
// updatedAt. It holds the user's lock (see userLocks) so that it cannot undo
// a concurrent CreatePost's push on FerretDB.
func (s *Store) UpdateUserStatus(ctx context.Context, id store.ID, status string) error {
	op := "update status of user " + id.Hex()
	cctx, cancel, err := s.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()

	unlock, err := s.locks.lock(cctx, id)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer unlock()
	res, err := s.users.UpdateByID(cctx, bson.ObjectID(id), bson.D{{Key: "$set", Value: bson.D{
		{Key: fStatus, Value: status},
		{Key: fUpdatedAt, Value: s.cfg.clock.Now()},
	}}})
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongostore: %s: %w", op, store.ErrNotFound)
	}
	return nil
}
