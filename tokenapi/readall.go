package tokenapi

import (
	"errors"
	"io"
	"sync"
)

// minReadBuffer is the smallest buffer readLimited reads into, as io.ReadAll starts with.
const minReadBuffer = 512

// readLimited reads r until EOF, keeping at most limit bytes, into buf, which it reuses
// from the start and replaces when it is too small. truncated reports whether r had
// more than limit bytes. sizeHint, when positive, is the expected length, such as a
// Content-Length, and sizes a new buffer so that a body of that length is read without
// growing it.
func readLimited(r io.Reader, buf []byte, limit, sizeHint int64) (body []byte, truncated bool, err error) {
	// One byte past the limit distinguishes a body of exactly limit bytes from a longer one.
	want := min(max(sizeHint, 0), limit) + 1
	if int64(cap(buf)) < want {
		buf = make([]byte, 0, max(want, minReadBuffer))
	}
	body, err = readUpTo(r, buf[:0], limit+1)
	if err != nil {
		return body, false, err
	}
	if int64(len(body)) > limit {
		return body[:limit], true, nil
	}
	return body, false, nil
}

// readUpTo appends the bytes of r to b until EOF or until b holds n bytes, and returns
// b, which shares the array of the b passed in unless it had to grow. A read error other
// than io.EOF is returned with the bytes read before it.
func readUpTo(r io.Reader, b []byte, n int64) ([]byte, error) {
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		end := int(min(int64(cap(b)), n))
		read, err := r.Read(b[len(b):end])
		b = b[:len(b)+read]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return b, err
		}
	}
	return b, nil
}

// maxPooledResponseBuffer is the largest buffer kept for reuse. A payment-credentials
// JWE is 1 to 3 KB, so larger bodies are rare and their buffers are left to the garbage
// collector.
const maxPooledResponseBuffer = 16 << 10

// responseBuffers holds the buffers that response bodies are read into.
var responseBuffers = sync.Pool{New: func() any { return new(responseBuffer) }}

// responseBuffer is a read buffer taken from responseBuffers. Nothing read into it may
// be kept after release: what a call returns is copied out of it first.
type responseBuffer struct {
	bytes []byte
}

func getResponseBuffer() *responseBuffer {
	return responseBuffers.Get().(*responseBuffer)
}

func (b *responseBuffer) release() {
	if cap(b.bytes) > maxPooledResponseBuffer {
		b.bytes = nil
	}
	b.bytes = b.bytes[:0]
	responseBuffers.Put(b)
}
