package main

import (
	"math/bits"
	"time"
)

// histogramSubBits sets the precision of a latencyHistogram: each power of two is split
// into 2^histogramSubBits buckets, so a recorded value is off by less than 1/128, under 0.8%.
const histogramSubBits = 7

// histogramBuckets covers every positive time.Duration.
const histogramBuckets = (64 - histogramSubBits) << histogramSubBits

// latencyHistogram counts durations in log-linear buckets, so its size stays fixed
// however many calls a run makes. It is not safe for concurrent use: each worker keeps
// its own and the results are merged.
type latencyHistogram struct {
	counts [histogramBuckets]uint64
	total  uint64
	max    time.Duration
}

func (h *latencyHistogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.total++
	h.max = max(h.max, d)
}

func (h *latencyHistogram) merge(other *latencyHistogram) {
	for i, n := range other.counts {
		h.counts[i] += n
	}
	h.total += other.total
	h.max = max(h.max, other.max)
}

// quantile returns the smallest recorded duration, within the bucket precision, that at
// least q of the recorded durations do not exceed. It returns 0 for an empty histogram.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			return min(bucketUpperBound(i), h.max)
		}
	}
	return h.max
}

// bucketOf returns the bucket of v. Values below 2^histogramSubBits have a bucket each;
// above, a bucket spans 2^shift values.
func bucketOf(v uint64) int {
	if v < 1<<histogramSubBits {
		return int(v)
	}
	shift := bits.Len64(v) - histogramSubBits - 1
	// top is in [2^histogramSubBits, 2^(histogramSubBits+1)).
	top := v >> shift
	return (shift+1)<<histogramSubBits + int(top-1<<histogramSubBits) //nolint:gosec // top-2^histogramSubBits is below 2^histogramSubBits
}

// bucketUpperBound returns the largest value of bucket i.
func bucketUpperBound(i int) time.Duration {
	if i < 1<<histogramSubBits {
		return time.Duration(i)
	}
	shift := i>>histogramSubBits - 1
	top := uint64(i&(1<<histogramSubBits-1)) + 1<<histogramSubBits
	return time.Duration((top+1)<<shift - 1) //nolint:gosec // at most 2^63-1 for the buckets bucketOf returns
}
