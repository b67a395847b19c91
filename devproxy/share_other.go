//go:build !unix

package devproxy

// ownedPrivate checks nothing where folders have no Unix owner and mode.
func ownedPrivate(string) error { return nil }
