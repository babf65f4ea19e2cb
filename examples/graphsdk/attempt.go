package graphsdk

import (
	"bytes"
	"io"
	"net/http"

	khttp "github.com/microsoft/kiota-http-go"
)

// AttemptCopy is a kiota-http-go middleware that sends every attempt as a
// copy of the request with a body of its own. Put it last in the list, after
// the retry handler.
//
// kiota-http-go's retry handler rewinds the request's body and sends the same
// request again. net/http's transport may still be reading that body when the
// answer has arrived (it reads past the end to check the length after the
// bytes are on the wire), so a rewind races with it (golang/go#51907): the
// race detector reports it, and a retry can go out empty ("ContentLength=91
// with Body length 0"). No server can prevent that; with the copy, the
// transport only ever reads a body nobody rewinds.
type AttemptCopy struct{}

// Intercept implements khttp.Middleware.
func (AttemptCopy) Intercept(pipeline khttp.Pipeline, index int, req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return pipeline.Next(req, index)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	attempt := req.Clone(req.Context())
	attempt.Body = io.NopCloser(bytes.NewReader(body))
	attempt.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	attempt.ContentLength = int64(len(body))
	return pipeline.Next(attempt, index)
}
