//go:build linux || darwin || freebsd

package tokenapi_test

import (
	"syscall"
	"testing"
	"time"
)

// startCPUClock reads the CPU time (user and system) the test process has used. The
// function it returns reports the CPU time used since then per iteration as the metric
// cpu-ns/op. Unlike ns/op, it does not count time spent waiting for a core, so it moves
// less when other processes load the machine. It counts every goroutine of the process,
// including the loopback server of a call benchmark.
func startCPUClock(b *testing.B) (stop func()) {
	b.Helper()
	start := processCPUTime(b)
	return func() {
		used := processCPUTime(b) - start
		if b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPUTime(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
