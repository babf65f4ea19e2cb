package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// bearerAuth checks `Authorization: Bearer <token>`. With an empty want any
// non-empty token passes; otherwise only want does, compared in constant time
// (both sides are hashed first, so not even the length leaks). Several
// Authorization headers are refused: which one would count is ambiguous, and
// a proxy and the server could pick different ones.
// It returns the token it accepted.
func bearerAuth(want string) func(http.Header) (string, error) {
	wantSum := sha256.Sum256([]byte(want))
	return func(h http.Header) (string, error) {
		values := h[echo.HeaderAuthorization]
		if len(values) > 1 {
			return "", unauthorized(msgTokenTwice, wwwAuthInvalidTok)
		}
		if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
			return "", unauthorized(msgTokenEmpty, wwwAuthenticate)
		}
		scheme, token, ok := strings.Cut(values[0], " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return "", unauthorized(msgTokenMalformed, wwwAuthInvalidTok)
		}
		if want != "" {
			got := sha256.Sum256([]byte(token))
			if subtle.ConstantTimeCompare(got[:], wantSum[:]) != 1 {
				return "", unauthorized(msgTokenWrong, wwwAuthInvalidTok)
			}
		}
		return token, nil
	}
}
