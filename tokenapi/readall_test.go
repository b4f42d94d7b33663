package tokenapi

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAllAnySize(t *testing.T) {
	for _, length := range []int{0, 1, 511, 512, 513, 1152, 4096, 70000} {
		data := bytes.Repeat([]byte{'j'}, length)
		for _, size := range []int64{-1, 0, 1, int64(length), int64(length) + 1, 100000} {
			got, err := readAll(iotest.HalfReader(bytes.NewReader(data)), size)
			if err != nil {
				t.Fatalf("length %d, size %d: %v", length, size, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("length %d, size %d: read %d bytes, want %d", length, size, len(got), length)
			}
		}
	}
}

func TestReadAllExactSizeDoesNotGrow(t *testing.T) {
	data := bytes.Repeat([]byte{'j'}, 1152)
	got, err := readAll(bytes.NewReader(data), int64(len(data))+1)
	if err != nil {
		t.Fatal(err)
	}
	if cap(got) != len(data)+1 {
		t.Errorf("capacity %d, want %d", cap(got), len(data)+1)
	}
}

func TestReadAllReturnsReadError(t *testing.T) {
	failure := errors.New("connection reset")
	got, err := readAll(io.MultiReader(bytes.NewReader([]byte("partial")), iotest.ErrReader(failure)), 0)
	if !errors.Is(err, failure) {
		t.Errorf("error = %v, want %v", err, failure)
	}
	if string(got) != "partial" {
		t.Errorf("read %q before the error, want %q", got, "partial")
	}
}
