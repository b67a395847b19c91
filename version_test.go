package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	checkout := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "667fb626f6bcd048d97375c02494a46e08848abb"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "667fb626f6bcd048d97375c02494a46e08848abb"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"release build", "1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "1.2.3"},
		{"release build from a checkout", "1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261128160317-667fb626f6bc"}, Settings: checkout}, "1.2.3"},
		{"go install @v1.2.3", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"go build in a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261128160317-667fb626f6bc"}, Settings: checkout}, "devel-667fb626f6bc"},
		{"go build with uncommitted changes", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261128160317-667fb626f6bc+dirty"}, Settings: dirty}, "devel-667fb626f6bc-dirty"},
		{"go build without VCS stamping", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"no build info", "", nil, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(tt.stamped, tt.info); got != tt.want {
				t.Errorf("versionOf(%q, …) = %q, want %q", tt.stamped, got, tt.want)
			}
		})
	}
}
