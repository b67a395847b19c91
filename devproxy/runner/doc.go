// Package runner starts and supervises the commands that serve devproxy's
// frontend and routes: a dev server such as `npm run dev`, an API such as
// `go run ./cmd/api`.
//
// A Command's life:
//
//	New(Options) ─▶ plan: split the command, pick the URL (given, or a free
//	                loopback port passed as PORT and, for dev servers that
//	                ignore PORT, as the flag they read)
//	Start ─▶ process group of its own ─▶ stdout/stderr lines ─▶ Options.Output
//	                                    └─▶ announced URL ─▶ Status.URL
//	      ─▶ readiness poll of the URL ─▶ Status.State = Ready
//	leader exits ─▶ rest of the group stopped ─▶ Options.Exited, once per run
//	Stop ─▶ SIGINT to the group, SIGTERM after 3 s, SIGKILL after 3 more,
//	        until no process of the group is left
//
// If devproxy dies without stopping its commands (SIGKILL, a crash), each
// command's group is killed by a small watcher: a /bin/sh started alongside
// the command that reads a pipe only devproxy holds and kills the group when
// the pipe reports end of file. On Linux the command's first process also
// gets the parent-death signal SIGKILL. On Windows neither exists: Stop kills
// the first process only, and its children may outlive it.
package runner
