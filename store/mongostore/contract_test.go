package mongostore_test

import (
	"testing"

	"feedrt/store"
	"feedrt/store/storetest"
)

// TestContract holds the MongoDB store to the same contract as the embedded
// one, each subtest on a database of its own.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := mustOpen(t)
		return s
	})
}
