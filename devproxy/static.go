package devproxy

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// staticHandler serves a frontend folder: the build output of an SPA, or any
// folder of files.
//
// The folder is opened again for every request, so a build tool may delete
// and recreate it at any time and the next request sees the new files. All
// access goes through an os.Root: nothing outside the folder is ever served,
// whatever the path or the symbolic links inside the folder say.
type staticHandler struct {
	// dir is the absolute path of the folder.
	dir string
	// spa answers page navigations to paths with no file with the folder's
	// index.html, so a client-side router can take over.
	spa bool
}

// newStaticHandler returns a handler serving the absolute folder dir. With
// spa set it falls back to dir/index.html for page navigations that match no
// file.
func newStaticHandler(dir string, spa bool) *staticHandler {
	return &staticHandler{dir: dir, spa: spa}
}

func (h *staticHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	// Nothing from the folder may be reused without asking first, not even a
	// 404 (heuristically cacheable): the next build replaces it.
	w.Header().Set("Cache-Control", "no-cache")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeProxyError(w, r, o, &proxyError{
			Status: http.StatusMethodNotAllowed,
			Err:    fmt.Sprintf("%s %s: a folder frontend answers GET and HEAD only", r.Method, sanitize(r.URL.Path)),
			Route:  "frontend", Target: h.dir,
			Hint:   "send this request to an API: add a route for its path to the config",
			Header: http.Header{"Allow": {"GET, HEAD"}},
		})
		return
	}

	p := r.URL.Path
	// A backslash is a separator on Windows and a NUL ends a C string; neither
	// belongs in a URL path for a file.
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		h.notFound(w, r, o, p)
		return
	}
	// Dotfiles (.env, .git/) hold secrets, not frontend assets. The answer is
	// the same 404 whether or not they exist, and never the SPA fallback,
	// which would hide a mistyped path behind a 200. A dot segment also
	// covers "." and "..".
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, ".") {
			h.dotfile(w, r, o, p)
			return
		}
	}
	// Only empty segments are left to clean: "//a" is "a" inside the folder,
	// never an absolute path.
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}

	root, err := os.OpenRoot(h.dir)
	if err != nil {
		h.fail(w, r, o, nil, p, err)
		return
	}
	defer root.Close()

	f, fi, isDir, err := openFile(root, name)
	if errors.Is(err, errDotfile) {
		h.dotfile(w, r, o, p)
		return
	}
	if err != nil {
		h.fail(w, r, o, root, p, err)
		return
	}
	defer f.Close()
	if !isDir && strings.HasSuffix(p, "/") {
		// /app.js/ is not /app.js: relative URLs inside it would resolve
		// against the wrong folder.
		h.fail(w, r, o, root, p, fs.ErrNotExist)
		return
	}
	if isDir && !strings.HasSuffix(p, "/") {
		// Relative links in the folder's index.html resolve against the slash
		// form. The location is built from the cleaned name, so a path such
		// as "//evil.example" cannot become a protocol-relative URL.
		u := url.URL{Path: "/" + name + "/", RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
		return
	}
	serveFile(w, r, f, fi)
}

// openFile opens what is served for name in root: the file itself, or the
// index.html of a folder (isDir true). A folder without index.html is missing
// like an absent file: a folder is never listed. Anything but a regular file
// is missing too; its type is checked before opening because opening a named
// pipe blocks until someone writes to it.
func openFile(root *os.Root, name string) (f *os.File, fi fs.FileInfo, isDir bool, err error) {
	fi, err = root.Stat(name)
	if err != nil {
		return nil, nil, false, err
	}
	if fi.IsDir() {
		isDir = true
		name = path.Join(name, "index.html")
		if fi, err = root.Stat(name); err != nil {
			return nil, nil, isDir, err
		}
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, isDir, fs.ErrNotExist
	}
	if leadsToDotfile(root, name) {
		return nil, nil, isDir, errDotfile
	}
	if f, err = root.Open(name); err != nil {
		return nil, nil, isDir, err
	}
	// Stat what was opened: a build may have replaced the file in between.
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fs.ErrNotExist
		}
		return nil, nil, isDir, err
	}
	return f, fi, isDir, nil
}

// fail answers a request whose file could not be opened: the SPA fallback or
// a 404 when the file is not there, a 500 when it is there but unreadable.
// root is nil when the folder itself could not be opened.
func (h *staticHandler) fail(w http.ResponseWriter, r *http.Request, o *outcome, root *os.Root, p string, err error) {
	if !isMissing(err) {
		h.serverError(w, r, o, p, err)
		return
	}
	if !h.spa || root == nil || !isNavigation(r) {
		h.notFound(w, r, o, p)
		return
	}
	f, fi, _, err := openFile(root, "index.html")
	if err != nil {
		if isMissing(err) {
			h.notFound(w, r, o, p)
		} else {
			h.serverError(w, r, o, p, err)
		}
		return
	}
	defer f.Close()
	serveFile(w, r, f, fi)
}

// errDotfile is why a name that leads to a dotfile through symbolic links
// is not opened.
var errDotfile = errors.New("leads to a name starting with a dot")

// maxLinks bounds the symbolic links followed for one name, as Linux's
// own limit does; a longer chain fails to open anyway.
const maxLinks = 40

// leadsToDotfile reports whether name, inside root, leads through symbolic
// links to a dotfile or into a dot folder (env.txt -> .env). The request
// path was checked for dot segments already; a link's target was not.
func leadsToDotfile(root *os.Root, name string) bool {
	todo := strings.Split(name, "/")
	var done []string
	for links := 0; len(todo) > 0; {
		seg := todo[0]
		todo = todo[1:]
		switch {
		case seg == "" || seg == ".":
			continue
		case seg == "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		case strings.HasPrefix(seg, "."):
			return true
		}
		cur := path.Join(append(done, seg)...)
		fi, err := root.Lstat(cur)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			// Opening reports what is wrong with a name that cannot be
			// looked at.
			done = append(done, seg)
			continue
		}
		target, err := root.Readlink(cur)
		if links++; err != nil || links > maxLinks {
			return false
		}
		todo = append(strings.Split(filepath.ToSlash(target), "/"), todo...)
	}
	return false
}

func (h *staticHandler) dotfile(w http.ResponseWriter, r *http.Request, o *outcome, p string) {
	writeProxyError(w, r, o, &proxyError{
		Status: http.StatusNotFound,
		Err:    sanitize(p) + ": names starting with a dot are never served from " + h.dir,
		Route:  "frontend", Target: h.dir,
		Hint: "dotfiles hold secrets (.env, .git); rename the file if the page needs it",
	})
}

func (h *staticHandler) notFound(w http.ResponseWriter, r *http.Request, o *outcome, p string) {
	writeProxyError(w, r, o, &proxyError{
		Status: http.StatusNotFound,
		Err:    sanitize(p) + " is not in " + h.dir,
		Route:  "frontend", Target: h.dir,
		Hint: "check the path, or build the frontend into " + h.dir + " again",
	})
}

func (h *staticHandler) serverError(w http.ResponseWriter, r *http.Request, o *outcome, p string, err error) {
	// The operation and file name in a *fs.PathError are os.Root's internals;
	// the cause ("permission denied") is what the user can act on.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	writeProxyError(w, r, o, &proxyError{
		Status: http.StatusInternalServerError,
		Err:    fmt.Sprintf("cannot read %s from %s: %v", sanitize(p), h.dir, err),
		Route:  "frontend", Target: h.dir,
		Hint: "check the file's permissions",
	})
}

// isMissing reports whether err means there is nothing to serve at a path,
// as opposed to a file that exists but cannot be read.
func isMissing(err error) bool {
	if errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ELOOP) ||
		errors.Is(err, syscall.ENAMETOOLONG) {
		return true
	}
	// os.Root refuses a path that escapes the folder (a symbolic link to a
	// place outside it, or an absolute one) with an error of its own rather
	// than an errno. Outside the folder is, for the client, nowhere.
	var errno syscall.Errno
	return !errors.As(err, &errno)
}

// isNavigation reports whether r is a browser loading a page: it asks for
// text/html and its last path segment has no file extension. A dot in an
// earlier segment (/v1.2/page) does not count. A missing asset
// (/missing.js), a fetch that accepts */* and any request without Accept
// get a real 404 instead of an HTML page they cannot use.
func isNavigation(r *http.Request) bool {
	return path.Ext(path.Base(r.URL.Path)) == "" && wantsHTML(r)
}

// serveFile sends f with its content type, a weak ETag and no-cache, and lets
// http.ServeContent answer ranges and conditional requests.
func serveFile(w http.ResponseWriter, r *http.Request, f *os.File, fi fs.FileInfo) {
	h := w.Header()
	if ct := contentType(fi.Name()); ct != "" {
		h.Set("Content-Type", ct)
	}
	// Weak: the tag is derived from size and modification time, not from the
	// bytes, so it cannot promise byte-for-byte equality.
	h.Set("ETag", fmt.Sprintf(`W/"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()))
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// contentType returns the Content-Type for a file name by its extension.
// Common web types are fixed here because the system MIME database varies
// between machines: some map .js to application/javascript or have no .wasm
// or .mjs, and browsers refuse modules and WebAssembly sent with the wrong
// type. Other extensions go to the mime package; "" lets ServeContent sniff.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".js", ".mjs", ".cjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".wasm":
		return "application/wasm"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".ico":
		return "image/x-icon"
	case ".woff":
		return "font/woff"
	case ".woff2":
		return "font/woff2"
	case ".ttf":
		return "font/ttf"
	case ".otf":
		return "font/otf"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "text/xml; charset=utf-8"
	case ".pdf":
		return "application/pdf"
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	case ".mp3":
		return "audio/mpeg"
	case "":
		return ""
	}
	return mime.TypeByExtension(ext)
}
