//go:build !(linux || darwin || freebsd)

package main

import "time"

// processCPUTime reports no CPU time on systems where paycreds does not read getrusage.
func processCPUTime() (time.Duration, bool) { return 0, false }
