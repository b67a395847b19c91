package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file reads the keys of a route that let a frontend work without
// its backend: record, replay and fallback, and the failures devproxy
// injects (latency, fail, throttle, rate_limit).

// ReplayAuto is the value of replay that answers from the record folder
// only while the target refuses connections.
const ReplayAuto = "auto"

// Record is a route's record key: every exchange its target answers is
// written to a file in Dir.
type Record struct {
	// Dir is the absolute folder the recordings go to; devproxy creates
	// it on the first recording.
	Dir string
	// Secrets writes Authorization, Cookie and Set-Cookie values as they
	// are (record_secrets: true). Default false: they are masked.
	Secrets bool
	// Line is the line of the record key in the file.
	Line int
}

// Replay is a route's replay key: devproxy answers from recorded files.
type Replay struct {
	// Dir is the absolute folder the recordings are read from: the replay
	// folder, or the record folder for replay: auto.
	Dir string
	// Auto answers from Dir only while the target refuses connections
	// (replay: auto). Default false: every request is answered from Dir
	// and the target is never asked.
	Auto bool
	// Line is the line of the replay key in the file.
	Line int
}

// Inject are the effects devproxy adds to a route's answers, for testing
// loading states and retries. The zero value injects nothing.
type Inject struct {
	// LatencyMin and LatencyMax bound the delay added before each answer,
	// picked uniformly between them; both 0 for none (latency: 300ms sets
	// both to 300ms).
	LatencyMin, LatencyMax time.Duration
	// FailRate is the share of requests, 0 to 1, that devproxy answers
	// with FailStatus instead of the target. Default 0: none.
	FailRate float64
	// FailStatus is the status of an injected failure. Default 503.
	FailStatus int
	// Throttle is the most bytes per second a request's body is read and
	// its response written at, each way; 0 for no limit.
	Throttle int64
	// RateRequests is how many requests RatePer lets through before the
	// next gets a 429 with Retry-After; 0 for no limit.
	RateRequests int
	// RatePer is the window RateRequests counts in. Default 1s.
	RatePer time.Duration
}

// Active reports whether in injects anything.
func (in Inject) Active() bool {
	return in.LatencyMax > 0 || in.FailRate > 0 || in.Throttle > 0 || in.RateRequests > 0
}

// DefaultFailStatus is the status of an injected failure when fail does
// not set one.
const DefaultFailStatus = 503

func failFields() []string { return names(failKeys()) }

func rateLimitFields() []string { return names(rateLimitKeys()) }

// record reads record: FOLDER. The folder need not exist yet; a file of
// that name is an error.
func (p *parser) record(f field) *Record {
	s, ok := p.text(f.val, f.path, `a folder such as "./mocks/api"`)
	if !ok {
		return nil
	}
	n := resolve(f.val)
	if s == "" {
		p.add(n, f.path, `write a folder such as "./mocks/api"`, "is empty")
		return nil
	}
	abs := p.abs(s)
	switch st, err := os.Stat(abs); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		p.add(n, f.path, "", "cannot read folder %s: %s", quote(abs), pathErrMsg(err))
		return nil
	case !st.IsDir():
		p.add(n, f.path, "name a folder for the recordings, such as \"./mocks\"; devproxy creates it",
			"%s is a file, want a folder", quote(abs))
		return nil
	}
	return &Record{Dir: abs, Line: f.key.Line}
}

// replay reads replay: FOLDER or replay: auto. The folder of auto is the
// record folder, filled in by route.
func (p *parser) replay(f field) *Replay {
	s, ok := p.text(f.val, f.path, `a folder such as "./mocks/api", or auto`)
	if !ok {
		return nil
	}
	n := resolve(f.val)
	switch {
	case s == "":
		p.add(n, f.path, `write the folder a record: key filled, such as "./mocks/api", or auto`, "is empty")
		return nil
	case s == ReplayAuto:
		return &Replay{Auto: true, Line: f.key.Line}
	}
	abs := p.abs(s)
	switch st, err := os.Stat(abs); {
	case errors.Is(err, fs.ErrNotExist):
		p.add(n, f.path, "record into it first: add record: "+s+" to the route while its target runs, or fix the path",
			"folder %s does not exist", quote(abs))
		return nil
	case err != nil:
		p.add(n, f.path, "", "cannot read folder %s: %s", quote(abs), pathErrMsg(err))
		return nil
	case !st.IsDir():
		p.add(n, f.path, "name the folder the recordings are in, not one file of it",
			"%s is a file, want a folder", quote(abs))
		return nil
	}
	return &Replay{Dir: abs, Line: f.key.Line}
}

// latency reads latency: 300ms or latency: 100ms..800ms.
func (p *parser) latency(f field, in *Inject) {
	n := resolve(f.val)
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.add(n, f.path, `write "300ms", or a range such as "100ms..800ms"`, "want a duration or a range, got %s", describe(n))
		return
	}
	s, ok := p.expand(n, f.path, n.Value)
	if !ok {
		return
	}
	lo, hi, isRange := strings.Cut(s, "..")
	dur := func(part string) (time.Duration, bool) {
		part = strings.TrimSpace(part)
		if part == "0" {
			return 0, true
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			hint := `write a number with a unit (ms, s), such as "300ms" or "100ms..800ms"`
			if _, err := strconv.ParseFloat(part, 64); err == nil {
				hint = "write " + strconv.Quote(strings.Replace(s, part, part+"ms", 1))
			}
			p.add(n, f.path, hint, "%s is not a duration", quote(part))
			return 0, false
		}
		if d < 0 {
			p.add(n, f.path, `write a duration such as "300ms", or 0`, "%s is negative", quote(part))
			return 0, false
		}
		return d, true
	}
	min, ok := dur(lo)
	if !ok {
		return
	}
	max := min
	if isRange {
		if max, ok = dur(hi); !ok {
			return
		}
		if max < min {
			p.add(n, f.path, "write "+strconv.Quote(strings.TrimSpace(hi)+".."+strings.TrimSpace(lo))+": the shorter delay comes first",
				"the range %s ends before it starts", quote(s))
			return
		}
	}
	in.LatencyMin, in.LatencyMax = min, max
}

// fail reads fail: {rate: 0.1, status: 503}.
func (p *parser) fail(f field, in *Inject) {
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "fail: {rate: 0.1, status: 503}"`, "want a mapping with rate and status, got %s", describe(n))
		return
	}
	rate, status, haveRate := 0.0, DefaultFailStatus, false
	for _, g := range p.fields(n, f.path, failFields(), nil) {
		switch g.name {
		case "rate":
			r, ok := p.rate(g)
			if ok {
				rate, haveRate = r, true
			}
		case "status":
			code, ok := p.integer(g.val, g.path, "a status code such as 503")
			if !ok {
				continue
			}
			if code < 400 || code > 599 {
				p.add(resolve(g.val), g.path, "write an error status from 400 to 599, such as 503", "%d is not an error status", code)
				continue
			}
			status = code
		}
	}
	if !haveRate && !p.has(n, "rate") {
		p.add(n, joinPath(f.path, "rate"), "write rate: 0.1 to fail one request in ten", "is missing")
		return
	}
	in.FailRate, in.FailStatus = rate, status
}

// has reports whether the mapping m has the key name.
func (p *parser) has(m *yaml.Node, name string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == name {
			return true
		}
	}
	return false
}

// rate reads a share from 0 to 1.
func (p *parser) rate(f field) (float64, bool) {
	n := resolve(f.val)
	const hint = "write a number from 0 to 1, such as 0.1 to fail one request in ten"
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.add(n, f.path, hint, "want a number from 0 to 1, got %s", describe(n))
		return 0, false
	}
	s, ok := p.expand(n, f.path, n.Value)
	if !ok {
		return 0, false
	}
	if pct, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		if v, err := strconv.ParseFloat(pct, 64); err == nil && v >= 0 && v <= 100 {
			p.add(n, f.path, "write "+strconv.FormatFloat(v/100, 'g', -1, 64), "%s is a percentage; want a number from 0 to 1", quote(s))
			return 0, false
		}
	}
	if n.ShortTag() == "!!str" && !fromEnv(n) {
		hint := hint
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			hint = "write " + s + " without quotes"
		}
		p.add(n, f.path, hint, "want a number from 0 to 1, got %s", describe(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v):
		p.add(n, f.path, hint, "%s is not a number", quote(s))
		return 0, false
	case v < 0 || v > 1:
		p.add(n, f.path, "write a share from 0 to 1: 0.1 fails one request in ten, 1 fails every request",
			"%s is not a number from 0 to 1", s)
		return 0, false
	}
	return v, true
}

// unitSize is the size in bytes of a throttle's unit; 0 for none devproxy
// knows.
func unitSize(unit string) float64 {
	switch unit {
	case "B":
		return 1
	case "KB", "kB":
		return 1e3
	case "KiB":
		return 1 << 10
	case "MB":
		return 1e6
	case "MiB":
		return 1 << 20
	case "GB":
		return 1e9
	case "GiB":
		return 1 << 30
	}
	return 0
}

// throttle reads throttle: 256KiB/s.
func (p *parser) throttle(f field, in *Inject) {
	n := resolve(f.val)
	const hint = `write a rate such as "256KiB/s" or "1MB/s"`
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.add(n, f.path, hint, "want a rate such as 256KiB/s, got %s", describe(n))
		return
	}
	s, ok := p.expand(n, f.path, n.Value)
	if !ok {
		return
	}
	t := strings.TrimSpace(s)
	per, ok := strings.CutSuffix(t, "/s")
	if !ok {
		h := hint
		if _, _, isNum := splitUnit(t); isNum {
			h = "write " + strconv.Quote(t+"/s")
			if isDigits(t) {
				h = "write " + strconv.Quote(t+"KiB/s") + " (bytes per second need a unit)"
			}
		}
		p.add(n, f.path, h, "%s is not a rate per second", quote(s))
		return
	}
	num, unit, isNum := splitUnit(per)
	size := unitSize(unit)
	if !isNum || size == 0 {
		p.add(n, f.path, hint, "%s is not a rate in bytes per second (B, KB, KiB, MB, MiB)", quote(s))
		return
	}
	bps := num * size
	if bps < 1 || math.IsInf(bps, 0) || bps > 1<<40 {
		p.add(n, f.path, hint, "%s is out of range; want at least 1B/s", quote(s))
		return
	}
	in.Throttle = int64(bps)
}

// splitUnit splits "256KiB" into 256 and "KiB".
func splitUnit(s string) (float64, string, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i < 0 {
		i = len(s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, "", false
	}
	return v, strings.TrimSpace(s[i:]), true
}

// rateLimit reads rate_limit: {requests: 10, per: 1s}.
func (p *parser) rateLimit(f field, in *Inject) {
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "rate_limit: {requests: 10, per: 1s}"`, "want a mapping with requests and per, got %s", describe(n))
		return
	}
	requests, per := 0, time.Second
	good := true
	for _, g := range p.fields(n, f.path, rateLimitFields(), nil) {
		switch g.name {
		case "requests":
			v, ok := p.integer(g.val, g.path, "a number of requests such as 10")
			switch {
			case !ok:
				good = false
			case v < 1:
				p.add(resolve(g.val), g.path, "write 1 or more; remove rate_limit to let every request through", "%d is less than 1", v)
				good = false
			default:
				requests = v
			}
		case "per":
			d, ok := p.duration(g.val, g.path, "s")
			switch {
			case !ok:
				good = false
			case d <= 0:
				p.add(resolve(g.val), g.path, `write a duration such as "1s" or "1m"`, "must be more than 0")
				good = false
			default:
				per = d
			}
		}
	}
	if requests == 0 && good {
		p.add(n, joinPath(f.path, "requests"), "write requests: 10 to let ten requests through per second", "is missing")
		return
	}
	if good {
		in.RateRequests, in.RatePer = requests, per
	}
}

// fallbackURL reads fallback: URL, an http(s) URL as a target is.
func (p *parser) fallbackURL(f field) *url.URL {
	s, ok := p.text(f.val, f.path, `a URL such as "https://staging.example.com"`)
	if !ok {
		return nil
	}
	u, _ := p.target(resolve(f.val), f.path, s, "https://staging.example.com")
	return u
}

// offline checks the record, replay and fallback keys of a route against
// each other and its target, once the whole route is read.
func (p *parser) offline(r *Route, k *yaml.Node, fp string, keys map[string]*field) {
	rec, rep, fb, sec := keys["record"], keys["replay"], keys["fallback"], keys["record_secrets"]
	if sec != nil && rec == nil {
		p.add(sec.key, sec.path, "add record: ./mocks/api to record, or remove record_secrets", "only applies together with record")
	}
	if r.Record != nil && sec != nil {
		r.Record.Secrets, _ = p.boolean(sec.val, sec.path)
	}
	hasTarget := keys["target"] != nil || keys["command"] != nil
	if r.Replay != nil && r.Replay.Auto {
		switch {
		case rec == nil:
			p.add(rep.key, rep.path, fmt.Sprintf("add record: ./mocks%s to record while the target answers, or write replay: ./mocks%s to name the folder", r.pathOr(k), r.pathOr(k)),
				"auto replays the record folder, and the route has no record key")
			r.Replay = nil
		case !hasTarget:
			p.add(rep.key, rep.path, "write the folder instead of auto to answer every request from it",
				"auto answers from the recordings while the target is down, and the route has no target")
			r.Replay = nil
		case r.Record != nil:
			r.Replay.Dir = r.Record.Dir
		default:
			r.Replay = nil
		}
	}
	if fb != nil && !hasTarget && keys["respond"] == nil {
		p.add(fb.key, fb.path, "add target: http://localhost:5000 (the local API the fallback stands in for)",
			"only applies to a route with target")
	}
	if fb != nil && hasTarget && r.Replay != nil && !r.Replay.Auto {
		p.add(fb.key, fb.path, "remove fallback, or replay, or write replay: auto to answer from the recordings only while the target is down",
			"is never asked: replay %s answers every request", quote(r.Replay.Dir))
	}
}

// pathOr is the route's path for a hint, or its key as written.
func (r *Route) pathOr(k *yaml.Node) string {
	if r.Path != "" {
		return r.Path
	}
	return strings.TrimRight(k.Value, "/")
}
