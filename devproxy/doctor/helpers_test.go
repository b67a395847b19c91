package doctor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/internal/testnet"
)

// waitTimeout bounds every wait on an event, a browser's script included:
// a guard against a hang, sized for go test -race on a loaded 2-core
// machine, never the expected wait.
const waitTimeout = 60 * time.Second

// testProxy is devproxy serving a config on a 127.0.0.1:0 listener, for
// doctor to look at.
type testProxy struct {
	url  string // http://127.0.0.1:PORT
	host string // 127.0.0.1:PORT
	log  *consoleLog
}

// startDevproxy writes config into a temp folder and serves it until the
// test ends. env resolves ${VAR} in the config.
func startDevproxy(t *testing.T, config string, env map[string]string) *testProxy {
	t.Helper()
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	log := newConsoleLog("devproxy's log")
	srv, err := devproxy.New(devproxy.Options{
		ConfigFile: file,
		Log:        log,
		LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatalf("devproxy.New: %v", err)
	}
	host := testnet.Serve(t, srv)
	return &testProxy{url: "http://" + host, host: host, log: log}
}
