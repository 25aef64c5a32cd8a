package mongostore_test

import (
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/storetest"
)

// TestContract holds the MongoDB store to the same contract as the embedded
// one, each subtest on a database of its own.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, _ := mustOpen(t, mongostore.WithClock(now))
		return s
	})
}
