// Command benchplot turns `paycreds bench --json` summaries, one JSON object per line,
// into an SVG with two charts against concurrency: calls per second and p99 latency.
//
//	for c in 1 2 4 8 16 32 64; do paycreds bench --json --concurrency $c; done > runs.jsonl
//	go run ./scripts/benchplot -o docs/bench-concurrency.svg runs.jsonl
//
// scripts/bench-concurrency.sh runs both steps.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// run is the part of a `paycreds bench --json` summary that the plot uses.
type run struct {
	Concurrency    int     `json:"concurrency"`
	CallsPerSecond float64 `json:"calls_per_second"`
	P99            float64 `json:"p99_ms"`
	Decrypt        bool    `json:"decrypt"`
	Target         string  `json:"target"`
}

func main() {
	output := flag.String("o", "bench-concurrency.svg", "SVG file to write")
	title := flag.String("title", "paycreds bench", "title above the charts")
	flag.Parse()

	runs, err := readRuns(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*output, []byte(render(*title, runs)), 0o644); err != nil { //nolint:gosec // a plot for the docs, meant to be readable
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

// readRuns reads the summaries in files, or standard input when there are none, and
// sorts them by concurrency.
func readRuns(files []string) ([]run, error) {
	var runs []run
	read := func(name string, r io.Reader) error {
		scanner := bufio.NewScanner(r)
		for line := 1; scanner.Scan(); line++ {
			text := strings.TrimSpace(scanner.Text())
			if !strings.HasPrefix(text, "{") {
				continue // progress lines and other output
			}
			var x run
			if err := json.Unmarshal([]byte(text), &x); err != nil {
				return fmt.Errorf("%s line %d: %w", name, line, err)
			}
			runs = append(runs, x)
		}
		return scanner.Err()
	}
	if len(files) == 0 {
		if err := read("standard input", os.Stdin); err != nil {
			return nil, err
		}
	}
	for _, name := range files {
		file, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		err = read(name, file)
		file.Close()
		if err != nil {
			return nil, err
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no JSON summaries in the input; produce them with paycreds bench --json")
	}
	slices.SortFunc(runs, func(a, b run) int { return a.Concurrency - b.Concurrency })
	return runs, nil
}

// Layout of the SVG, in pixels.
const (
	chartWidth  = 420
	chartHeight = 260
	marginLeft  = 70
	marginTop   = 78
	gap         = 90
)

func render(title string, runs []run) string {
	var b strings.Builder
	width := marginLeft + 2*chartWidth + gap + 30
	height := marginTop + chartHeight + 70
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15">%s</text>`+"\n", marginLeft, escape(title))
	if len(runs) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="42" fill="#555">%s, %s</text>`+"\n", marginLeft, escape(runs[0].Target), mode(runs[0]))
	}

	chart(&b, marginLeft, "calls per second", runs, func(r run) float64 { return r.CallsPerSecond }, "#1f77b4")
	chart(&b, marginLeft+chartWidth+gap, "p99 latency (ms)", runs, func(r run) float64 { return r.P99 }, "#d62728")
	b.WriteString("</svg>\n")
	return b.String()
}

func mode(r run) string {
	if r.Decrypt {
		return "JWE decrypted"
	}
	return "JWE returned unopened"
}

// chart draws one line chart with a log2 concurrency axis and a linear value axis
// starting at zero.
func chart(b *strings.Builder, left int, label string, runs []run, value func(run) float64, color string) {
	top, bottom, right := marginTop, marginTop+chartHeight, left+chartWidth
	maxConcurrency := float64(runs[len(runs)-1].Concurrency)
	maxValue := 0.0
	for _, r := range runs {
		maxValue = max(maxValue, value(r))
	}
	maxValue = niceCeiling(maxValue)
	x := func(c int) float64 {
		if maxConcurrency <= 1 {
			return float64(left)
		}
		return float64(left) + math.Log2(float64(c))/math.Log2(maxConcurrency)*chartWidth
	}
	y := func(v float64) float64 { return float64(bottom) - v/maxValue*chartHeight }

	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, top-8, escape(label))
	for i := 0; i <= 4; i++ {
		v := maxValue * float64(i) / 4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), right, y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, formatValue(v))
	}
	for _, r := range runs {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(r.Concurrency), bottom+18, r.Concurrency)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">concurrency (calls in flight)</text>`+"\n", left+chartWidth/2, bottom+40)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, bottom, right, bottom)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, bottom)

	points := make([]string, len(runs))
	for i, r := range runs {
		points[i] = fmt.Sprintf("%.1f,%.1f", x(r.Concurrency), y(value(r)))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(points, " "), color)
	for _, r := range runs {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>concurrency %d: %s</title></circle>`+"\n",
			x(r.Concurrency), y(value(r)), color, r.Concurrency, formatValue(value(r)))
	}
}

// niceCeiling rounds v up to 1, 2 or 5 times a power of ten.
func niceCeiling(v float64) float64 {
	if v <= 0 {
		return 1
	}
	power := math.Pow(10, math.Floor(math.Log10(v)))
	for _, step := range []float64{1, 2, 5, 10} {
		if v <= step*power {
			return step * power
		}
	}
	return 10 * power
}

func formatValue(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
