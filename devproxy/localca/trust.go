package localca

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// TrustOptions says where the user's trust stores are.
type TrustOptions struct {
	// Home is the user's home folder, which holds the NSS databases of
	// Chromium (.pki/nssdb) and the Firefox profiles. Empty means
	// os.UserHomeDir ($HOME).
	Home string
}

// Step is what Trust, Untrust or Trusted did with one trust store.
type Step struct {
	// Store names the store: "Chromium NSS database", "Firefox profile",
	// "system store", "Node.js".
	Store string
	// Where is the store's folder or file.
	Where string
	// Did says what was done ("added the CA", "already trusts the CA",
	// "removed the CA", …), or what was tried when OK is false.
	Did string
	// OK is false when the step could not be done.
	OK bool
	// Err says why the step could not be done.
	Err error
	// Command is the exact command to run by hand: to do the step yourself
	// when OK is false; for Node.js, the variable to set.
	Command string
}

// Nickname is the CA's name in the NSS databases. It carries the serial
// number, so a new CA never collides with an old one.
func (ca *CA) Nickname() string {
	return ca.Cert.Subject.CommonName + " " + ca.serialPrefix()
}

// serialPrefix is the start of the serial number in hex, enough to tell
// CAs apart.
func (ca *CA) serialPrefix() string {
	serial := fmt.Sprintf("%x", ca.Cert.SerialNumber)
	if len(serial) > 12 {
		serial = serial[:12]
	}
	return serial
}

// Trust installs the CA in every store found: the NSS databases of
// Chromium (created when missing, on Linux) and of every Firefox profile,
// and the system store. It reports one Step per store, then the Node.js
// variable; it stops at nothing.
func (ca *CA) Trust(ctx context.Context, opts TrustOptions) []Step {
	steps := ca.nssSteps(ctx, opts, true)
	steps = append(steps, ca.system(ctx, true))
	return append(steps, Step{Store: "Node.js", Where: ca.CertPath, OK: true,
		Did:     "Node does not read these stores: set this variable for Node processes (SSR, tests) that call devproxy",
		Command: "NODE_EXTRA_CA_CERTS=" + shellQuote(ca.CertPath)})
}

// Untrust removes the CA from every store Trust installs it in.
func (ca *CA) Untrust(ctx context.Context, opts TrustOptions) []Step {
	steps := ca.nssSteps(ctx, opts, false)
	steps = append(steps, ca.system(ctx, false))
	return append(steps, Step{Store: "Node.js", Where: ca.CertPath, OK: true,
		Did: "remove NODE_EXTRA_CA_CERTS where you set it"})
}

// Trusted reports whether the Chromium NSS database (~/.pki/nssdb) trusts
// the CA to identify web sites, as Chromium on Linux sees it: the Step is
// OK when it does. When it does not, Command is what to run; Err says why
// it could not be checked at all (no certutil, say).
func (ca *CA) Trusted(ctx context.Context, opts TrustOptions) Step {
	home, err := homeDir(opts)
	if err != nil {
		return Step{Store: "Chromium NSS database", Err: err, Command: "devproxy trust"}
	}
	dir := filepath.Join(home, ".pki", "nssdb")
	step := Step{Store: "Chromium NSS database", Where: dir, Command: "devproxy trust"}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		step.Did = "certutil not found"
		step.Err = errors.New("certutil not found")
		step.Command = certutilInstall + ", then run devproxy trust"
		return step
	}
	if !fileExists(filepath.Join(dir, "cert9.db")) {
		step.Did = "no database"
		return step
	}
	if _, err := run(ctx, certutil, "-V", "-d", "sql:"+dir, "-n", ca.Nickname(), "-u", "L"); err != nil {
		step.Did = "does not trust the CA"
		return step
	}
	step.OK, step.Did, step.Command = true, "trusts the CA", ""
	return step
}

// certutilInstall says how to get certutil, which NSS ships apart.
const certutilInstall = "install certutil (Debian, Ubuntu: sudo apt-get install libnss3-tools; Fedora: sudo dnf install nss-tools; Arch: sudo pacman -S nss; macOS: brew install nss)"

func homeDir(opts TrustOptions) (string, error) {
	if opts.Home != "" {
		return opts.Home, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder for the browsers' certificate databases: %w", err)
	}
	return home, nil
}

// nssDB is one NSS certificate database.
type nssDB struct {
	store string
	dir   string
	// create is true for the one database created when missing.
	create bool
}

// nssDBs lists the NSS databases under home: Chromium's on Linux (also
// when missing: Chromium reads it once it exists), and every Firefox
// profile that has a certificate database.
func nssDBs(home string) []nssDB {
	var dbs []nssDB
	var profiles []string
	switch runtime.GOOS {
	case "linux":
		dbs = append(dbs, nssDB{store: "Chromium NSS database", dir: filepath.Join(home, ".pki", "nssdb"), create: true})
		snap := filepath.Join(home, "snap", "chromium", "current", ".pki", "nssdb")
		if isDir(snap) {
			dbs = append(dbs, nssDB{store: "Chromium NSS database (snap)", dir: snap})
		}
		profiles = []string{
			filepath.Join(home, ".mozilla", "firefox", "*"),
			filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "*"),
		}
	case "darwin":
		profiles = []string{filepath.Join(home, "Library", "Application Support", "Firefox", "Profiles", "*")}
	case "windows":
		profiles = []string{filepath.Join(home, "AppData", "Roaming", "Mozilla", "Firefox", "Profiles", "*")}
	}
	var found []string
	for _, pattern := range profiles {
		for _, db := range []string{"cert9.db", "cert8.db"} {
			m, _ := filepath.Glob(filepath.Join(pattern, db))
			for _, f := range m {
				found = append(found, filepath.Dir(f))
			}
		}
	}
	sort.Strings(found)
	for i, dir := range found {
		if i == 0 || found[i-1] != dir {
			dbs = append(dbs, nssDB{store: "Firefox profile", dir: dir})
		}
	}
	return dbs
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// dbArg is certutil's -d value: sql: for the current format, dbm: for a
// Firefox profile old enough to have only cert8.db.
func dbArg(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "cert8.db")); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "cert9.db")); err != nil {
			return "dbm:" + dir
		}
	}
	return "sql:" + dir
}

func (ca *CA) nssSteps(ctx context.Context, opts TrustOptions, install bool) []Step {
	home, err := homeDir(opts)
	if err != nil {
		return []Step{{Store: "NSS databases", Err: err, Command: "set HOME and run devproxy trust again"}}
	}
	certutil, lookErr := exec.LookPath("certutil")
	var steps []Step
	for _, db := range nssDBs(home) {
		exists := isDir(db.dir) && (fileExists(filepath.Join(db.dir, "cert9.db")) || fileExists(filepath.Join(db.dir, "cert8.db")))
		step := Step{Store: db.store, Where: db.dir}
		if !install && !exists {
			step.OK, step.Did = true, "no database, nothing to remove"
			steps = append(steps, step)
			continue
		}
		d := dbArg(db.dir)
		add := []string{"certutil", "-A", "-d", d, "-t", "C,,", "-n", ca.Nickname(), "-i", ca.CertPath}
		del := []string{"certutil", "-D", "-d", d, "-n", ca.Nickname()}
		manual := add
		if !install {
			manual = del
		}
		if lookErr != nil {
			step.Did = "certutil not found"
			step.Err = errors.New("certutil not found")
			step.Command = certutilInstall + ", then run: "
			if install && !exists {
				step.Command += "mkdir -p " + shellQuote(db.dir) + " && certutil -N --empty-password -d " + shellQuote(d) + " && "
			}
			step.Command += shellJoin(manual)
			steps = append(steps, step)
			continue
		}
		if install && !exists {
			step.Did = "created the database"
			if err := os.MkdirAll(db.dir, 0o700); err != nil {
				step.Err = fmt.Errorf("create %s: %s", db.dir, reason(err))
				step.Command = "mkdir -p " + shellQuote(db.dir) + " && certutil -N --empty-password -d " + shellQuote(d) + " && " + shellJoin(add)
				steps = append(steps, step)
				continue
			}
			if _, err := run(ctx, certutil, "-N", "--empty-password", "-d", d); err != nil {
				step.Err = err
				step.Command = "certutil -N --empty-password -d " + shellQuote(d) + " && " + shellJoin(add)
				steps = append(steps, step)
				continue
			}
		}
		_, listErr := run(ctx, certutil, "-L", "-d", d, "-n", ca.Nickname())
		present := listErr == nil
		var err error
		switch {
		case install && present:
			step.Did = joinDid(step.Did, "already trusts the CA")
			if _, verr := run(ctx, certutil, "-V", "-d", d, "-n", ca.Nickname(), "-u", "L"); verr != nil {
				// Listed, but not trusted for web sites (its flags were
				// changed): trust it again.
				manual = []string{"certutil", "-M", "-d", d, "-n", ca.Nickname(), "-t", "C,,"}
				step.Did = "trusted the CA for web sites again"
				_, err = run(ctx, certutil, manual[1:]...)
			}
		case install:
			step.Did = joinDid(step.Did, "added the CA")
			_, err = run(ctx, certutil, manual[1:]...)
		case present:
			step.Did = "removed the CA"
			_, err = run(ctx, certutil, manual[1:]...)
		default:
			step.Did = "did not have the CA"
		}
		if err != nil {
			step.Err = err
			step.Command = shellJoin(manual)
		} else {
			step.OK = true
		}
		steps = append(steps, step)
	}
	return steps
}

func joinDid(a, b string) string {
	if a == "" {
		return b
	}
	return a + " and " + b
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// system installs (or removes) the CA in the operating system's store,
// which curl, Go programs, Chromium on macOS and Windows and most tools
// read.
func (ca *CA) system(ctx context.Context, install bool) Step {
	switch runtime.GOOS {
	case "linux":
		return ca.systemLinux(ctx, install)
	case "darwin":
		keychain := "/Library/Keychains/System.keychain"
		step := Step{Store: "system store (macOS keychain)", Where: keychain}
		if install {
			step.Did = "added the CA as trusted root"
			return runStep(ctx, step, true, "security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", keychain, ca.CertPath)
		}
		step.Did = "removed the CA"
		return runStep(ctx, step, true, "security", "delete-certificate", "-c", ca.Cert.Subject.CommonName, keychain)
	case "windows":
		step := Step{Store: "system store (Windows ROOT)", Where: "ROOT"}
		if install {
			step.Did = "added the CA"
			return runStep(ctx, step, false, "certutil", "-addstore", "-f", "ROOT", ca.CertPath)
		}
		step.Did = "removed the CA"
		return runStep(ctx, step, false, "certutil", "-delstore", "ROOT", fmt.Sprintf("%x", ca.Cert.SerialNumber))
	}
	return Step{Store: "system store", Err: fmt.Errorf("devproxy does not know the system store of %s", runtime.GOOS),
		Command: "add " + ca.CertPath + " to your system's trusted certificates by hand"}
}

// runStep runs one command for a step; on failure the step carries the
// command to run by hand (with sudo when sudo is true and the process is
// not root).
func runStep(ctx context.Context, step Step, sudo bool, name string, args ...string) Step {
	manual := shellJoin(append([]string{name}, args...))
	if sudo && os.Geteuid() != 0 {
		manual = "sudo " + manual
	}
	path, err := exec.LookPath(name)
	if err != nil {
		step.Err = fmt.Errorf("%s not found", name)
		step.Command = manual
		return step
	}
	if _, err := run(ctx, path, args...); err != nil {
		step.Err = err
		step.Command = manual
		return step
	}
	step.OK = true
	return step
}

// debianAnchors is where Debian and Ubuntu take local CAs from.
const debianAnchors = "/usr/local/share/ca-certificates"

// systemLinux uses update-ca-certificates (Debian, Ubuntu, openSUSE) or
// p11-kit's trust (Fedora, RHEL, Arch), whichever the machine has.
func (ca *CA) systemLinux(ctx context.Context, install bool) Step {
	_, updateErr := exec.LookPath("update-ca-certificates")
	if updateErr != nil || !isDir(debianAnchors) {
		if _, err := exec.LookPath("trust"); err == nil {
			step := Step{Store: "system store (p11-kit trust)", Where: "trust anchor"}
			if install {
				step.Did = "added the CA as an anchor"
				return runStep(ctx, step, true, "trust", "anchor", "--store", ca.CertPath)
			}
			step.Did = "removed the CA"
			return runStep(ctx, step, true, "trust", "anchor", "--remove", ca.CertPath)
		}
	}
	file := filepath.Join(debianAnchors, "devproxy-"+ca.serialPrefix()+".crt")
	step := Step{Store: "system store (update-ca-certificates)", Where: file}
	sudo := ""
	if os.Geteuid() != 0 {
		sudo = "sudo "
	}
	manual := sudo + "cp " + shellQuote(ca.CertPath) + " " + shellQuote(file) + " && " + sudo + "update-ca-certificates"
	if !install {
		manual = sudo + "rm -f " + shellQuote(file) + " && " + sudo + "update-ca-certificates"
	}
	have, readErr := os.ReadFile(file)
	if !install && errors.Is(readErr, fs.ErrNotExist) {
		step.OK, step.Did = true, "did not have the CA"
		return step
	}
	if updateErr != nil {
		step.Did = "update-ca-certificates not found"
		step.Err = errors.New("neither update-ca-certificates nor trust (p11-kit) found")
		step.Command = "install ca-certificates, then run: " + manual
		return step
	}
	if install && readErr == nil && bytes.Equal(have, ca.PEM()) {
		step.OK, step.Did = true, "already trusts the CA"
		return step
	}
	if install {
		step.Did = "copied the CA and ran update-ca-certificates"
		err := os.WriteFile(file, ca.PEM(), 0o644)
		if err != nil {
			step.Err = fmt.Errorf("write %s: %s", file, reason(err))
			step.Command = manual
			return step
		}
	} else {
		step.Did = "removed the CA and ran update-ca-certificates"
		if err := os.Remove(file); err != nil {
			step.Err = fmt.Errorf("remove %s: %s", file, reason(err))
			step.Command = manual
			return step
		}
	}
	if _, err := run(ctx, "update-ca-certificates"); err != nil {
		step.Err = err
		step.Command = sudo + "update-ca-certificates"
		return step
	}
	step.OK = true
	return step
}

// run runs a command and returns its output; a failure's error holds the
// command and what it printed.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		cmd := filepath.Base(name)
		if len(args) > 0 {
			cmd += " " + args[0]
		}
		return out, fmt.Errorf("%s: %s", cmd, msg)
	}
	return out, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:,=@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
