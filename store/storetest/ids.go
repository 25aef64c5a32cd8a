package storetest

// IDText is a text given to store.ParseID and what it must make of it.
type IDText struct {
	In   string
	Want string // the id's Hex, or "" if ParseID must refuse In
}

// IDTexts returns the texts store.ParseID must read or refuse. The store
// package's tests check ParseID against them, and an implementation with an
// id type of its own (mongostore's ObjectID) checks that type reads the same
// texts the same way, so that old data and links keep working.
func IDTexts() []IDText {
	return []IDText{
		{"65b3f7edd9bfca00daa6e3b3", "65b3f7edd9bfca00daa6e3b3"},
		{"000000000000000000000000", "000000000000000000000000"},
		{"65B3F7EDD9BFCA00DAA6E3B3", "65b3f7edd9bfca00daa6e3b3"}, // upper case reads, Hex writes lower
		{"", ""},
		{"65b3f7edd9bfca00daa6e3b", ""},   // 23 digits
		{"65b3f7edd9bfca00daa6e3b31", ""}, // 25 digits
		{"65b3f7edd9bfca00daa6e3bg", ""},  // not hex
		{" 65b3f7edd9bfca00daa6e3b", ""},
		{"65b3f7edd9bfca00daa6e3b\n", ""},
		{"0x65b3f7edd9bfca00daa6e3", ""},
		{"abcdefabcdef", ""}, // 12 characters are not 12 bytes of id
		{"ZZZZZZZZZZZZZZZZZZZZZZZZ", ""},
	}
}
