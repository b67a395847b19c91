package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one scenario measured on one target.
type row struct {
	scenario scenario
	title    string // the scenario's title with its connection counts
	target   string
	proxied  bool
	nginx    bool // the target is nginx (-nginx), not a devproxy
	direct   *row // the same scenario hit directly, when measured
	w        window
	// cpu is the proxy's CPU time in the window (nginx's: its master's
	// and workers'); -1 unknown.
	cpu   time.Duration
	rss   int64 // devproxy's peak RSS in bytes; -1 unknown and for nginx
	conns int64 // connections the backend accepted in the window
	// pageCPU is the page-load dev server's CPU time in the window; -1
	// unknown, 0 outside the page-load scenarios.
	pageCPU time.Duration
	// spread is (max - min) / median of the rate, or of p50 without a
	// rate, over the rounds; -1 with one round.
	spread float64
}

func (r *row) rate() float64 {
	if r.w.elapsed <= 0 {
		return 0
	}
	return float64(r.w.ops) / r.w.elapsed.Seconds()
}

func (r *row) rateCell() string {
	if r.scenario.unit == "" {
		return "–"
	}
	return strconv.FormatFloat(r.rate(), 'f', 0, 64) + " " + r.scenario.unit
}

// vsDirect is the rate as a fraction of direct's, or for latency-only
// scenarios the added median latency.
func (r *row) vsDirect() string {
	if !r.proxied {
		if r.scenario.unit == "" || r.scenario.proxyOnly {
			return "–"
		}
		return "1.00"
	}
	if r.direct == nil {
		return "–"
	}
	if r.scenario.unit == "" {
		return "+" + formatLatency(r.w.percentile(0.5)-r.direct.w.percentile(0.5))
	}
	if r.direct.rate() == 0 {
		return "–"
	}
	return strconv.FormatFloat(r.rate()/r.direct.rate(), 'f', 2, 64)
}

func (r *row) mibps() string {
	if !r.scenario.mibps || r.w.elapsed <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(r.w.bytes)/mib/r.w.elapsed.Seconds(), 'f', 0, 64)
}

func (r *row) cpuPerOp() string {
	if !r.proxied || r.cpu < 0 || r.w.ops == 0 || r.scenario.proxyOnly {
		return "–"
	}
	return strconv.FormatFloat(float64(r.cpu.Microseconds())/float64(r.w.ops), 'f', 1, 64)
}

func (r *row) peakRSS() string {
	if !r.proxied || r.rss < 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(r.rss)/mib, 'f', 1, 64) + " MiB"
}

func (r *row) connsPer1k() string {
	if r.w.ops == 0 || r.scenario.proxyOnly {
		return "–"
	}
	return strconv.FormatFloat(float64(r.conns)*1000/float64(r.w.ops), 'f', 1, 64)
}

func (r *row) latencies() (string, string) {
	if len(r.w.lat) == 0 {
		return "–", "–"
	}
	return formatLatency(r.w.percentile(0.5)), formatLatency(r.w.percentile(0.99))
}

// summary is the progress line printed as each measurement ends.
func (r *row) summary() string {
	p50, p99 := r.latencies()
	s := fmt.Sprintf("%s, p50 %s, p99 %s", r.rateCell(), p50, p99)
	if r.scenario.mibps {
		s += ", " + r.mibps() + " MiB/s"
	}
	if r.proxied {
		s += ", CPU " + r.cpuPerOp() + " µs/op, peak RSS " + r.peakRSS()
	}
	if r.w.errs > 0 {
		s += fmt.Sprintf(", %d errors (first: %v)", r.w.errs, r.w.err)
	}
	return s
}

func (r *row) spreadCell() string {
	if r.spread < 0 {
		return "–"
	}
	return strconv.FormatFloat(r.spread*100, 'f', 0, 64) + "%"
}

var header = []string{"scenario", "via", "rate", "spread", "vs direct", "MiB/s", "p50", "p99", "CPU µs/op", "peak RSS", "conns/1k", "errors"}

// writeTable prints rows as an aligned table: text columns to the left,
// numbers to the right, then the first error of each row that had any.
func writeTable(w io.Writer, rows []row) {
	cells := [][]string{header}
	for i := range rows {
		r := &rows[i]
		title := r.title
		if i > 0 && rows[i-1].scenario.name == r.scenario.name {
			title = ""
		}
		p50, p99 := r.latencies()
		cells = append(cells, []string{title, r.target, r.rateCell(), r.spreadCell(), r.vsDirect(), r.mibps(), p50, p99,
			r.cpuPerOp(), r.peakRSS(), r.connsPer1k(), strconv.FormatInt(r.w.errs, 10)})
	}
	writeCells(w, cells)
	fmt.Fprintln(w, "\nrate: operations per second in the window; spread: (max - min) / median over the rounds (of p50 for latency-only rows)")
	fmt.Fprintln(w, "vs direct: rate / direct's rate (latency-only rows: added median)")
	fmt.Fprintln(w, "CPU µs/op: the proxy's user+sys time per operation (nginx: master and workers); peak RSS: devproxy's VmHWM during the scenario")
	fmt.Fprintln(w, "conns/1k: TCP connections the backend accepted per 1000 operations (proxied rows: the proxy's upstream connections)")
	for i := range rows {
		if r := &rows[i]; r.w.err != nil {
			fmt.Fprintf(w, "%s via %s: %d errors, first: %v\n", r.scenario.name, r.target, r.w.errs, r.w.err)
		}
	}
}

// writeCells prints cells aligned: the first two columns (text) to the
// left, numbers to the right.
func writeCells(w io.Writer, cells [][]string) {
	widths := make([]int, len(cells[0]))
	for _, c := range cells {
		for j, s := range c {
			widths[j] = max(widths[j], len([]rune(s)))
		}
	}
	for _, c := range cells {
		var b strings.Builder
		for j, s := range c {
			pad := strings.Repeat(" ", widths[j]-len([]rune(s)))
			if j > 0 {
				b.WriteString("  ")
			}
			if j < 2 {
				b.WriteString(s + pad)
			} else {
				b.WriteString(pad + s)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// writePageTable prints the page-load rows again in the units of a page
// load: wall time, CPU per load of devproxy and of the dev server, and
// the connections opened per load (devproxy rows: upstream, to the dev
// server and the API).
func writePageTable(w io.Writer, rows []row) {
	var page []*row
	for i := range rows {
		if rows[i].scenario.group == "pageload" {
			page = append(page, &rows[i])
		}
	}
	if len(page) == 0 {
		return
	}
	cells := [][]string{{"page load", "via", "requests", "wall p50", "× direct", "proxy CPU/load", "dev server CPU/load", "× dev server", "conns/load", "errors"}}
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	}
	for _, r := range page {
		kind := "warm"
		if r.scenario.cold {
			kind = "cold"
		}
		p50, _ := r.latencies()
		ratio, cpu, pcpu, vs, conns := "–", "–", "–", "–", "–"
		if r.direct != nil && len(r.direct.w.lat) > 0 && len(r.w.lat) > 0 {
			ratio = strconv.FormatFloat(float64(r.w.percentile(0.5))/float64(r.direct.w.percentile(0.5)), 'f', 2, 64)
		} else if !r.proxied {
			ratio = "1.00"
		}
		if r.w.ops > 0 {
			if r.proxied && r.cpu >= 0 {
				cpu = ms(r.cpu / time.Duration(r.w.ops))
			}
			if r.pageCPU >= 0 {
				pcpu = ms(r.pageCPU / time.Duration(r.w.ops))
			}
			if r.proxied && r.cpu >= 0 && r.pageCPU > 0 {
				vs = strconv.FormatFloat(float64(r.cpu)/float64(r.pageCPU), 'f', 2, 64)
			}
			conns = strconv.FormatFloat(float64(r.conns)/float64(r.w.ops), 'f', 2, 64)
		}
		cells = append(cells, []string{kind, r.target, strconv.Itoa(pageRequests(r.scenario.cold)), p50, ratio, cpu, pcpu, vs, conns, strconv.FormatInt(r.w.errs, 10)})
	}
	fmt.Fprintln(w)
	writeCells(w, cells)
	fmt.Fprintln(w, "\nwall p50: median time of one load; × direct: that / direct's; CPU/load: user+sys time per load (the dev server runs as a process of its own; nginx: master and workers)")
	fmt.Fprintln(w, "× dev server: the proxy's CPU / the dev server's in the same window; conns/load: TCP connections the dev server and the API accepted per load")
	writeNginxRatios(w, page)
}

// writeNginxRatios prints, for each devproxy of the page-load rows, its
// CPU per load divided by nginx's in the same scenario of the same run,
// when nginx was measured.
func writeNginxRatios(w io.Writer, page []*row) {
	perLoad := func(r *row) float64 {
		if r.cpu < 0 || r.w.ops == 0 {
			return -1
		}
		return float64(r.cpu) / float64(r.w.ops)
	}
	nginx := map[string]*row{} // by scenario
	var names []string         // the devproxy targets, in table order
	for _, r := range page {
		switch {
		case r.nginx:
			nginx[r.scenario.name] = r
		case r.proxied && !slices.Contains(names, r.target):
			names = append(names, r.target)
		}
	}
	if len(nginx) == 0 {
		return
	}
	for _, name := range names {
		var parts []string
		for _, r := range page {
			n := nginx[r.scenario.name]
			if r.target != name || n == nil {
				continue
			}
			kind := "warm"
			if r.scenario.cold {
				kind = "cold"
			}
			ratio := "–"
			if d, g := perLoad(r), perLoad(n); d >= 0 && g > 0 {
				ratio = strconv.FormatFloat(d/g, 'f', 2, 64)
			}
			parts = append(parts, kind+" "+ratio)
		}
		fmt.Fprintf(w, "%s CPU ÷ nginx CPU per load, same run: %s\n", name, strings.Join(parts, ", "))
	}
}
