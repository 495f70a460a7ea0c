// Package bench holds the benchmarks of Latch's HTTP hot paths, run through
// the real handler stack (shell, auth, services, SQLite) next to a plain
// net/http handler as the ceiling. It has no non-test code.
package bench
