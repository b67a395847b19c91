// Package e2e proves devproxy in the one scene it exists for: a real browser
// (headless Chromium, driven with chromedp), a real frontend dev server with
// hot reload (Vite, webpack-dev-server) and an API, all on one origin.
//
// The package has only tests. They skip, saying what to install, when
// Chromium, Node or the app's node_modules are missing:
//
//	apt-get install -y chromium && (cd e2e/app && npm ci)
//	go test ./e2e/
package e2e
