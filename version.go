package main

import "runtime/debug"

// version is stamped into release builds by the linker:
// -ldflags "-X main.version=1.2.3" (see release/build.sh).
var version string

// versionOf says which devproxy this is: the stamped version of a release
// build; the module version of `go install …@vX`; for a build from a
// checkout, "devel" and the commit it was built from, with "-dirty" when
// the tree had uncommitted changes.
func versionOf(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if info == nil {
		return "devel"
	}
	var rev string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	// A build from a checkout carries VCS settings (and, since Go 1.24, a
	// pseudo-version made from them); one from the module cache has none.
	if rev != "" {
		v := "devel-" + rev[:min(12, len(rev))]
		if dirty {
			v += "-dirty"
		}
		return v
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "devel"
}

// buildVersion is versionOf for this binary.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionOf(version, info)
}
