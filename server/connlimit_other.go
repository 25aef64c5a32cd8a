//go:build !unix

package server

// descriptorLimit is a common default where the limit cannot be read.
func descriptorLimit() uint64 { return 1 << 14 }
