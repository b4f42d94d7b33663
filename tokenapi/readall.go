package tokenapi

import (
	"errors"
	"io"
)

// readAll reads r until EOF, as io.ReadAll does, but starts with a buffer of capacity
// size (at least 512 bytes). Given the exact length plus one, it reads a body without
// growing the buffer, where io.ReadAll starts at 512 bytes and grows it for every JWE.
// Callers bound size, because it is allocated up front.
func readAll(r io.Reader, size int64) ([]byte, error) {
	const minSize = 512
	b := make([]byte, 0, max(size, minSize))
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
