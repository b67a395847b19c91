// Package release holds the tests of the release build (build.sh) and of
// the npm packages it makes: they build the packages for this platform,
// install them into a fresh npm project from the tarballs alone, and run
// devproxy through npx. They are skipped when npm is not installed.
package release
