package spec

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
)

// CheckingHandler returns a handler for tests that serves each request with next,
// validates the response with ValidateResponse, calls report once for each violation,
// and then writes the response to the client unchanged. It buffers the whole response,
// so it does not suit streaming handlers.
//
// The document does not describe a request that matches no operation. Its response is
// accepted when the status is 404 for an unknown path or 405 for an undeclared method,
// and reported otherwise.
func (s *Spec) CheckingHandler(next http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buffered := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buffered, r)
		status := buffered.statusCode()

		for _, err := range s.checkResponse(r, status, buffered.header, buffered.body.Bytes()) {
			report(fmt.Errorf("response %d to %s %s: %w", status, r.Method, r.URL.EscapedPath(), err))
		}

		for name, values := range buffered.header {
			w.Header()[name] = values
		}
		w.WriteHeader(status)
		_, _ = w.Write(buffered.body.Bytes())
	})
}

func (s *Spec) checkResponse(r *http.Request, status int, header http.Header, body []byte) []error {
	err := s.ValidateResponse(r, status, header, body)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrPathNotFound) && status == http.StatusNotFound:
		return nil
	case errors.Is(err, ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed:
		return nil
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		return multi.Unwrap()
	}
	return []error{err}
}

// bufferedResponse is an http.ResponseWriter that keeps the response in memory.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) statusCode() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}
