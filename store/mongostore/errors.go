package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"feedrt/store"
)

// errClosed is what every method returns after Close.
var errClosed = fmt.Errorf("mongostore: the store is closed: %w", store.ErrUnavailable)

// begin starts a call: it refuses work after Close or on a context that is
// already done (so a cancelled request writes nothing), and bounds the call
// by the call timeout when ctx has no deadline. The returned context is for
// the driver; errors must still be classified against the caller's ctx.
func (s *Store) begin(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, s.fail(ctx, op, err)
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.callTimeout)
	return ctx, cancel, nil
}

// fail translates an error of the driver into the store's vocabulary, so
// that no caller needs to know the driver:
//
//   - answers of the server win over everything else, since they are final:
//     no document is store.ErrNotFound, a duplicate key store.ErrConflict;
//   - if the caller's ctx is done, the call failed because of it: the error
//     wraps ctx.Err() (context.Canceled or context.DeadlineExceeded). A
//     missed deadline also wraps store.ErrUnavailable, because the database
//     did not answer in the time the caller could give it; a cancellation
//     does not, because the caller left and the database may be fine;
//   - network errors, timeouts of our own (server selection, the call
//     timeout), a connection pool the driver cleared, a closed client and
//     the server's "shutting down" or "not primary" answers wrap
//     store.ErrUnavailable, so the HTTP layer can say 503 and the client
//     try again later;
//   - anything else is wrapped as it is (an internal error).
//
// outer is the caller's context, not the one bounded by begin: only the
// caller's own deadline or cancellation counts as the caller's.
func (s *Store) fail(outer context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return fmt.Errorf("mongostore: %s: %w", op, err) // already translated
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongostore: %s: %w", op, store.ErrNotFound)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("mongostore: %s: %w: %w", op, store.ErrConflict, err)
	case s.closed.Load() || errors.Is(err, mongo.ErrClientDisconnected):
		return fmt.Errorf("mongostore: %s: the store is closed: %w: %w", op, store.ErrUnavailable, err)
	}
	if cerr := outer.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return fmt.Errorf("mongostore: %s: %w: %w (%v)", op, cerr, store.ErrUnavailable, err)
		}
		if err == cerr {
			return fmt.Errorf("mongostore: %s: %w", op, cerr)
		}
		return fmt.Errorf("mongostore: %s: %w (%v)", op, cerr, err)
	}
	if unavailable(err) {
		return fmt.Errorf("mongostore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

// unavailableCodes are server error codes meaning "not now": the server is
// shutting down, lost its primary role or timed out. Retrying later, maybe
// on another member of a replica set, can succeed.
var unavailableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	50,    // MaxTimeMSExpired
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	133,   // FailedToSatisfyReadPreference
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

// unavailable reports whether err means the database could not be reached
// or could not answer in time, as opposed to refusing the request.
func unavailable(err error) bool {
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.As(err, new(topology.ConnectionError)) || errors.As(err, new(topology.ServerSelectionError)) ||
		errors.Is(err, topology.ErrPoolClosed) || errors.As(err, new(net.Error)) {
		return true
	}
	// A call waiting for a connection when the pool was cleared (another
	// call met a dead or stalled server) gets the driver's pool error,
	// which says it may be retried, without a label.
	var pe driver.RetryablePoolError
	if errors.As(err, &pe) && pe.Retryable() {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		// Labels the driver puts on errors that a retry may cure; a
		// cleared connection pool carries TransientTransactionError.
		for _, l := range []string{"NetworkError", "RetryableWriteError", "TransientTransactionError"} {
			if se.HasErrorLabel(l) {
				return true
			}
		}
		for _, c := range unavailableCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}

// isIndexConflict reports the server's answers to creating an index that
// exists under the same name or keys with other options.
func isIndexConflict(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && (se.HasErrorCode(85) || se.HasErrorCode(86)) // IndexOptionsConflict, IndexKeySpecsConflict
}
