package store

import "time"

// Clock tells a store the time of its writes. Stores take one as an option
// (time is a dependency), so tests set the time instead of sleeping to
// order events. The nil Clock is the wall clock; this is the one place the
// stores' default is written.
type Clock func() time.Time

// Now returns the clock's time as the stores keep times (see StoredTime).
func (c Clock) Now() time.Time {
	if c == nil {
		return StoredTime(time.Now())
	}
	return StoredTime(c())
}

// StoredTime returns t as the stores keep times: UTC at millisecond
// precision, the precision of the API's ISO-8601 timestamps and of MongoDB
// dates, so a time handed back by a write equals the one a later read
// returns.
func StoredTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
