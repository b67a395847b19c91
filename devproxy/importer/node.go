package importer

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// loadScript is load.mjs, run with node to read a JavaScript config.
//
//go:embed load.mjs
var loadScript string

// jsRule is one proxy entry as load.mjs reports it.
type jsRule struct {
	From     string   `json:"from"`
	Contexts []string `json:"contexts"`
	// Regex is set when a context is a RegExp object.
	Regex        bool           `json:"regex"`
	Target       *string        `json:"target"`
	ChangeOrigin *bool          `json:"change_origin"`
	Secure       *bool          `json:"secure"`
	Headers      map[string]any `json:"headers"`
	Bypass       bool           `json:"bypass"`
	Router       string         `json:"router"`
	Configure    bool           `json:"configure"`
	Unknown      []string       `json:"unknown"`
	// Timeout is proxyTimeout in milliseconds; nil when not set.
	Timeout *float64 `json:"timeout"`
	// Rewrite maps sample paths to what the rule's rewrite or
	// pathRewrite turned them into; nil when the rule has none.
	Rewrite map[string]string `json:"rewrite"`
	// RewriteUnread is a pathRewrite that could not be tried (no Node),
	// as written.
	RewriteUnread   string `json:"-"`
	ContextFunction bool   `json:"context_function"`
	MountStripped   bool   `json:"mount_stripped"`

	// Next.js rewrites.
	Next        bool   `json:"next"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Has         bool   `json:"has"`
}

// jsResult is what load.mjs writes.
type jsResult struct {
	Error        string   `json:"error"`
	Missing      string   `json:"missing"`
	File         string   `json:"file"`
	ToolVersion  string   `json:"tool_version"`
	Port         any      `json:"port"`
	HMR          *jsHMR   `json:"hmr"`
	WebSocketURL *string  `json:"web_socket_url"`
	Rules        []jsRule `json:"rules"`
	Warnings     []string `json:"warnings"`
	StandIn      bool     `json:"stand_in"`
}

type jsHMR struct {
	ClientPort any `json:"client_port"`
	Host       any `json:"host"`
	Port       any `json:"port"`
}

// port returns a port a config set as a number or a string of digits.
func port(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		if v >= 1 && v <= 65535 && v == float64(int(v)) {
			return int(v), true
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 65535 {
			return n, true
		}
	}
	return 0, false
}

// load runs load.mjs in mode on the project's file with the project's
// Node. The error says in a user's words why nothing could be read.
func (im *importer) load(mode, file string) (*jsResult, error) {
	if im.nodeErr != nil {
		return nil, fmt.Errorf("cannot run node: %v", im.nodeErr)
	}
	tmp, err := os.MkdirTemp("", "devproxy-init-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	script := filepath.Join(tmp, "load.mjs")
	out := filepath.Join(tmp, "out.json")
	if err := os.WriteFile(script, []byte(loadScript), 0o600); err != nil {
		return nil, err
	}
	timeout := im.opts.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(im.ctx, timeout)
	defer cancel()
	suffixes, _ := json.Marshal(sampleSuffixes())
	cmd := exec.CommandContext(ctx, im.node, script, mode, im.dir, out, file, string(suffixes))
	cmd.Dir = im.dir
	// Next.js would report the config load to its telemetry.
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0", "NEXT_TELEMETRY_DISABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	// A config that starts a child keeps the pipes open; do not wait for
	// it past the kill.
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil && im.ctx.Err() == nil {
		return nil, fmt.Errorf("node did not finish within %s: the config waits for something as it loads; add its routes by hand", timeout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		msg := cleanSpace(stderr.String())
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		return nil, fmt.Errorf("node failed: %s", msg)
	}
	var res jsResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("node wrote a result that is not JSON: %v", err)
	}
	return &res, nil
}

// limited writes at most n bytes to w and drops the rest.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
