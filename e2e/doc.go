// Package e2e proves devproxy in the one scene it exists for: a real browser
// (headless Chromium, driven with chromedp), a real frontend dev server with
// hot reload and an API, all on one origin.
//
// TestDevServersBehindDevproxy runs the same checks with each dev server of
// the README's table (devservers_test.go lists them): Vite and
// webpack-dev-server from app/, and each framework's own CLI on the project
// in testdata/NAME, each with its committed lock file. One Chromium is
// shared; two dev servers run at a time.
//
// TestHTTPSInChromium runs the Vite scene over https: true, in a Chromium
// that trusts devproxy's CA because devproxy trust put it in the NSS
// database of the HOME the browser runs with (it needs certutil too).
//
// The package has only tests. They skip, saying what to install, when
// Chromium, Node or an app's node_modules are missing:
//
//	apt-get install -y chromium
//	for d in e2e/app e2e/testdata/*/; do (cd $d && npm ci); done
//	go test ./e2e/
//	go test ./e2e/ -run 'TestDevServersBehindDevproxy/next'
package e2e
