package main

import (
	"math"
	"testing"
	"time"
)

func TestHistogramBucketsContainTheirValues(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, math.MaxInt64}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histogramBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside 0..%d", v, i, histogramBuckets-1)
		}
		upper := uint64(bucketUpperBound(i))
		if upper < v {
			t.Errorf("value %d: bucket %d ends at %d, below the value", v, i, upper)
		}
		if v > 0 && float64(upper-v)/float64(v) > 1.0/128 {
			t.Errorf("value %d: bucket %d ends at %d, more than 1/128 above", v, i, upper)
		}
		if i > 0 && uint64(bucketUpperBound(i-1)) >= v {
			t.Errorf("value %d: the previous bucket %d already ends at %d", v, i-1, bucketUpperBound(i-1))
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h latencyHistogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Microsecond},
		{0.9, 900 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	}
	for _, c := range cases {
		got := h.quantile(c.q)
		if got < c.want || float64(got-c.want) > float64(c.want)/128 {
			t.Errorf("quantile(%v) = %v, want %v within 1/128", c.q, got, c.want)
		}
	}
	if h.max != time.Millisecond {
		t.Errorf("max = %v, want 1ms", h.max)
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var empty latencyHistogram
	if got := empty.quantile(0.99); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
	var a, b latencyHistogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	b.record(2 * time.Millisecond)
	a.merge(&b)
	if a.total != 3 {
		t.Errorf("merged total = %d, want 3", a.total)
	}
	if a.max != 3*time.Millisecond {
		t.Errorf("merged max = %v, want 3ms", a.max)
	}
	if got := a.quantile(0.5); got < 2*time.Millisecond || got > 2*time.Millisecond+2*time.Millisecond/128 {
		t.Errorf("merged median = %v, want about 2ms", got)
	}
}
