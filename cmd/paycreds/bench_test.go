package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchEmbeddedSandbox(t *testing.T) {
	res := runCommand(t, nil, "", "bench", "--calls", "40", "--concurrency", "3", "--duration", "30s", "--progress", "0")
	if res.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"40 calls", "embedded sandbox", "concurrency 3", "calls per second", "latency p50", "latency p90", "latency p99", "latency max", "errors            0", "heap in use"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestBenchJSONWithDecryption(t *testing.T) {
	res := runCommand(t, nil, "", "bench", "--calls", "5", "--decrypt", "--json", "--progress", "0")
	if res.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &summary); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, res.stdout)
	}
	if summary["calls"] != 5.0 || summary["succeeded"] != 5.0 || summary["decrypt"] != true {
		t.Errorf("calls, succeeded, decrypt = %v, %v, %v; want 5, 5, true", summary["calls"], summary["succeeded"], summary["decrypt"])
	}
	for _, field := range []string{"calls_per_second", "p50_ms", "p90_ms", "p99_ms", "max_ms", "heap_end_bytes"} {
		if _, ok := summary[field]; !ok {
			t.Errorf("summary lacks %s: %s", field, res.stdout)
		}
	}
}

func TestBenchAgainstBaseURLCountsErrors(t *testing.T) {
	fixture := startSandbox(t)
	environment := map[string]string{}
	for name, value := range fixture.env {
		environment[name] = value
	}
	res := runCommand(t, environment, "", "bench", "--base-url", fixture.env[envBaseURL], "--calls", "4", "--progress", "0", "7030000000000039999")
	if res.code != exitError {
		t.Fatalf("exit %d, want %d for a run with no success\nstdout:\n%s\nstderr:\n%s", res.code, exitError, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "HTTP 410 notAvailable  4") {
		t.Errorf("output lacks the 410 errors by kind:\n%s", res.stdout)
	}
}

func TestBenchRejectsInvalidFlags(t *testing.T) {
	cases := [][]string{
		{"--calls", "0"},
		{"--concurrency", "0"},
		{"--concurrency", "100000"},
		{"--duration", "0s"},
		{"--duration", "2h"},
		{"--base-url", "https://apitest.cybersource.com"},
		{"--raw"},
		{"one", "two"},
	}
	for _, args := range cases {
		res := runCommand(t, nil, "", append([]string{"bench"}, args...)...)
		if res.code != exitUsage {
			t.Errorf("bench %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), res.code, exitUsage, res.stderr)
		}
	}
}
