package servertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildServer builds cmd/server into the test's temporary directory and
// returns the binary's path.
func BuildServer(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "feedrt")
	build := exec.Command("go", "build", "-o", bin, "feedrt/cmd/server")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build feedrt/cmd/server: %v", err)
	}
	return bin
}
