package main

import (
	"strings"
	"testing"
)

// TestDoctorDispatch checks that "devproxy doctor" reaches the doctor with
// its own flags and exit codes.
func TestDoctorDispatch(t *testing.T) {
	code, _, stderr := runCLI(t, "doctor", "-h")
	if code != 0 || !strings.Contains(stderr, "devproxy doctor [URL] [flags]") {
		t.Errorf("devproxy doctor -h: exit %d, stderr %q; want exit 0 and the doctor's usage", code, stderr)
	}
	code, _, stderr = runCLI(t, "doctor", "http://localhost:5000", "--origin", "localhost:3000")
	if code != 2 || !strings.Contains(stderr, "devproxy: error: origin") {
		t.Errorf("devproxy doctor with a bad origin: exit %d, stderr %q; want exit 2 and the error", code, stderr)
	}
	code, _, stderr = runCLI(t, "-h")
	if code != 0 || !strings.Contains(stderr, "devproxy doctor URL --origin") {
		t.Errorf("devproxy -h: exit %d, stderr %q; want the doctor example", code, stderr)
	}
}
