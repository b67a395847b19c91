package release

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestEndedReadsAZombiesStatus(t *testing.T) {
	for _, tt := range []struct {
		script, want string
	}{
		{"exit 3", "exited with status 3"},
		{"kill -TERM $$", "exited, killed by terminated"},
	} {
		cmd := exec.Command("sh", "-c", tt.script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		// Wait for the shell's end without reaping it (WNOWAIT): it
		// stays a zombie, as a launcher nobody waited for yet does.
		var info unix.Siginfo
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
			t.Fatalf("waitid %d: %v", pid, err)
		}
		if got := ended(pid); got != tt.want {
			t.Errorf("sh -c %q: ended says %q, want %q", tt.script, got, tt.want)
		}
		cmd.Wait()
		if got := ended(pid); got != "gone" {
			t.Errorf("sh -c %q once reaped: ended says %q, want gone", tt.script, got)
		}
	}
}
