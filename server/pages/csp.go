package pages

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
)

// inlineScript finds a page's inline scripts (a <script> without src).
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// ContentSecurityPolicy is the narrowest policy page works under: its own
// scripts (by file from this server, inline ones by their SHA-256), styles
// from this server and inline (Swagger UI styles its elements one by one),
// images from this server or data: URIs, requests to this server only, no
// plugin, no base URL and no form posting elsewhere, and no page may frame it.
func ContentSecurityPolicy(page []byte) string {
	scripts := []string{"'self'"}
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(scripts, " "),
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}
