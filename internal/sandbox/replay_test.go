package sandbox

import (
	"fmt"
	"testing"
	"time"
)

func TestReplayCacheRejectsSeenJTI(t *testing.T) {
	cache := newReplayCache(10)
	now := time.Unix(1796412551, 0)
	if !cache.add("a", now.Add(time.Minute), now) {
		t.Fatal("a new jti was reported as seen")
	}
	if cache.add("a", now.Add(time.Minute), now.Add(30*time.Second)) {
		t.Error("a jti seen before its expiry was accepted again")
	}
}

func TestReplayCachePrunesExpired(t *testing.T) {
	cache := newReplayCache(10)
	now := time.Unix(1796412551, 0)
	cache.add("a", now.Add(time.Minute), now)
	cache.add("b", now.Add(3*time.Minute), now)

	later := now.Add(2 * time.Minute)
	if !cache.add("c", later.Add(time.Minute), later) {
		t.Fatal("c was reported as seen")
	}
	if got := cache.len(); got != 2 {
		t.Errorf("len = %d after a expired, want 2 (b and c)", got)
	}
	if !cache.add("a", later.Add(time.Minute), later) {
		t.Error("a was rejected after it expired and was pruned")
	}
}

func TestReplayCacheBounded(t *testing.T) {
	const size = 100
	cache := newReplayCache(size)
	now := time.Unix(1796412551, 0)
	for i := range size + 5 {
		// Later ids expire later, so the first ones are dropped at the limit.
		if !cache.add(fmt.Sprint(i), now.Add(time.Hour+time.Duration(i)*time.Second), now) {
			t.Fatalf("id %d was reported as seen", i)
		}
	}
	if got := cache.len(); got != size {
		t.Errorf("len = %d, want the limit %d", got, size)
	}
	if cache.dropped != 5 {
		t.Errorf("dropped = %d, want 5", cache.dropped)
	}
	if cache.add(fmt.Sprint(size+4), now.Add(time.Hour), now) {
		t.Error("the newest id was dropped instead of the one expiring first")
	}
}
