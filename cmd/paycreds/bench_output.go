package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/metrics"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// benchResult is the outcome of a run. Its JSON form is what scripts/benchplot reads.
type benchResult struct {
	Target      string `json:"target"`
	API         string `json:"api"`
	Decrypt     bool   `json:"decrypt"`
	Concurrency int    `json:"concurrency"`

	Completed int64            `json:"calls"`
	Succeeded int64            `json:"succeeded"`
	Failed    int64            `json:"failed"`
	Errors    map[string]int64 `json:"errors"`

	Elapsed        time.Duration `json:"-"`
	ElapsedSeconds float64       `json:"elapsed_seconds"`
	CallsPerSecond float64       `json:"calls_per_second"`

	// Latencies of successful calls, in milliseconds.
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`

	p50, p90, p99, max time.Duration

	// CPUTime is the user and system CPU time of this process during the run, zero when
	// CPUTimeMeasured is false.
	CPUTime           time.Duration `json:"-"`
	CPUTimeMeasured   bool          `json:"-"`
	CPUSecondsPerCall float64       `json:"cpu_seconds_per_call,omitempty"`

	HeapStartBytes uint64 `json:"heap_start_bytes"`
	HeapEndBytes   uint64 `json:"heap_end_bytes"`
}

// summarize sets the latency percentiles from h and the rates from the counts and times.
func (r *benchResult) summarize(h *latencyHistogram) {
	r.p50, r.p90, r.p99, r.max = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99), h.max
	milliseconds := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.P50, r.P90, r.P99, r.Max = milliseconds(r.p50), milliseconds(r.p90), milliseconds(r.p99), milliseconds(r.max)

	r.ElapsedSeconds = r.Elapsed.Seconds()
	if r.ElapsedSeconds > 0 {
		r.CallsPerSecond = float64(r.Completed) / r.ElapsedSeconds
	}
	if r.CPUTimeMeasured && r.Completed > 0 {
		r.CPUSecondsPerCall = r.CPUTime.Seconds() / float64(r.Completed)
	}
}

func printBenchJSON(w io.Writer, r benchResult) error {
	out, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

func printBenchSummary(w io.Writer, r benchResult) {
	mode := "JWE returned unopened"
	if r.Decrypt {
		mode = "JWE decrypted"
	}
	fmt.Fprintf(w, "paycreds bench: %d calls in %s against %s, concurrency %d, %s, %s\n",
		r.Completed, roundDuration(r.Elapsed), r.Target, r.Concurrency, r.API, mode)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  calls per second\t%.1f\n", r.CallsPerSecond)
	fmt.Fprintf(tw, "  latency p50\t%s\n", roundDuration(r.p50))
	fmt.Fprintf(tw, "  latency p90\t%s\n", roundDuration(r.p90))
	fmt.Fprintf(tw, "  latency p99\t%s\n", roundDuration(r.p99))
	fmt.Fprintf(tw, "  latency max\t%s\n", roundDuration(r.max))
	fmt.Fprintf(tw, "  errors\t%d\n", r.Failed)
	kinds := make([]string, 0, len(r.Errors))
	for kind := range r.Errors {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		fmt.Fprintf(tw, "    %s\t%d\n", kind, r.Errors[kind])
	}
	if r.CPUTimeMeasured {
		scope := "this process"
		if strings.HasSuffix(r.Target, "(embedded sandbox)") {
			scope = "this process, including the embedded sandbox"
		}
		fmt.Fprintf(tw, "  CPU per call\t%s (user and system time of %s)\n", formatSeconds(r.CPUSecondsPerCall), scope)
	}
	fmt.Fprintf(tw, "  heap in use\t%s at start, %s at end\n", formatBytes(r.HeapStartBytes), formatBytes(r.HeapEndBytes))
	_ = tw.Flush() // a summary that cannot be written has nowhere else to go
	fmt.Fprintln(w, "  Latencies are of successful calls.")
}

func printBenchProgress(w io.Writer, p benchProgress) {
	rate := 0.0
	if seconds := p.elapsed.Seconds(); seconds > 0 {
		rate = float64(p.completed) / seconds
	}
	fmt.Fprintf(w, "paycreds bench: %s  %d calls  %.0f/s  %d errors  heap %s\n",
		p.elapsed.Round(100*time.Millisecond), p.completed, rate, p.failed, formatBytes(p.heapBytes))
}

// formatSeconds prints a CPU time per call in the unit that suits it: 85µs, 1.32ms.
func formatSeconds(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Millisecond {
		return d.Round(100 * time.Nanosecond).String()
	}
	return roundDuration(d).String()
}

func formatBytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// heapInUse returns the bytes of live and not yet swept heap objects, as the runtime
// reports them without stopping the program.
func heapInUse() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
