package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/labstack/echo/v4"
)

// bearerAuth checks `Authorization: Bearer <token>`. With an empty want any
// non-empty token passes; otherwise only want does, compared in constant time
// (both sides are hashed first, so not even the length leaks).
func bearerAuth(want string) echo.MiddlewareFunc {
	wantSum := sha256.Sum256([]byte(want))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			header := c.Request().Header.Get(echo.HeaderAuthorization)
			if strings.TrimSpace(header) == "" {
				return unauthorized(msgTokenEmpty, wwwAuthenticate)
			}
			scheme, token, ok := strings.Cut(header, " ")
			token = strings.TrimSpace(token)
			if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
				return unauthorized(msgTokenMalformed, wwwAuthInvalidTok)
			}
			if want != "" {
				got := sha256.Sum256([]byte(token))
				if subtle.ConstantTimeCompare(got[:], wantSum[:]) != 1 {
					return unauthorized(msgTokenWrong, wwwAuthInvalidTok)
				}
			}
			return next(c)
		}
	}
}
