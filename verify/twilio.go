package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// TwilioRequest is what Twilio's signature covers, taken from one HTTP request.
type TwilioRequest struct {
	// URL is the full URL Twilio called: scheme://host[:port]/path?query.
	// Build it with TwilioURL.
	URL string
	// Signature is the X-Twilio-Signature header value.
	Signature string
	// ContentType is the request's Content-Type header value.
	ContentType string
	// Body is the raw request body.
	Body []byte
}

// TwilioURL returns the URL Twilio signed. When publicBase is set (the
// service sits behind a proxy, load balancer or tunnel) it is publicBase,
// without a trailing slash, followed by requestURI (path and query as
// received); otherwise scheme + "://" + host + requestURI.
func TwilioURL(publicBase, scheme, host, requestURI string) string {
	if publicBase != "" {
		return strings.TrimRight(publicBase, "/") + requestURI
	}
	return scheme + "://" + host + requestURI
}

// Twilio verifies req against each token; any match passes. It returns the
// request's parameters: the form fields of a form-encoded body or, for a
// JSON body announced by a bodySHA256 query parameter, the query parameters
// (the body is then covered by its SHA-256 hash, checked too).
//
// The URL is tried as given and with the default port added or removed, as
// Twilio's own libraries do. A key repeated in the form is signed by Twilio
// with every value; that case is verified here, since twilio-go's validator
// keeps only one value per key.
func Twilio(req TwilioRequest, tokens []string) (url.Values, error) {
	tokens = usable(tokens)
	if len(tokens) == 0 {
		return nil, ErrNoSecret
	}
	if req.Signature == "" {
		return nil, ErrMissingSignature
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("parse twilio url: %w: %w", ErrMalformed, err)
	}
	query := u.Query()

	if query.Get("bodySHA256") != "" {
		valid := false
		for _, token := range tokens {
			rv := client.NewRequestValidator(token)
			if rv.ValidateBody(req.URL, req.Body, req.Signature) {
				valid = true
			}
		}
		if !valid {
			return nil, ErrInvalidSignature
		}
		return query, nil
	}

	// A body we cannot read as a form is still authenticated first (over the
	// URL and whatever parameters could be read), so that a forged request
	// is refused as such and only a genuine one is called malformed.
	if !isForm(req.ContentType) && len(req.Body) > 0 {
		if signedByAny(tokens, req.URL, nil, req.Signature) {
			return nil, fmt.Errorf("read twilio body of type %q without bodySHA256: %w", req.ContentType, ErrMalformed)
		}
		return nil, ErrInvalidSignature
	}
	params, err := ParseTwilioForm(req.Body)
	if err != nil {
		partial, _ := url.ParseQuery(string(req.Body))
		if signedByAny(tokens, req.URL, partial, req.Signature) || signedByAny(tokens, req.URL, nil, req.Signature) {
			return nil, err
		}
		return nil, ErrInvalidSignature
	}
	if !signedByAny(tokens, req.URL, params, req.Signature) {
		return nil, ErrInvalidSignature
	}
	return params, nil
}

// signedByAny reports whether any token signed the URL and params with sig.
// Every token is tried, so the time taken does not tell which one matched.
func signedByAny(tokens []string, rawURL string, params url.Values, sig string) bool {
	valid := false
	for _, token := range tokens {
		if validForm(token, rawURL, params, sig) {
			valid = true
		}
	}
	return valid
}

// SignTwilio returns the X-Twilio-Signature Twilio sends for a form POST of
// params to fullURL: base64(HMAC-SHA1(token, fullURL + key + value ...)),
// keys sorted, and for a repeated key every value, values sorted. The URL is
// used exactly as given.
func SignTwilio(token, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		values := slices.Clone(params[k])
		slices.Sort(values)
		for _, v := range values {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ParseTwilioForm decodes an application/x-www-form-urlencoded body. It
// accepts what browsers accept: an empty body, empty segments ("a=1&&b=2"),
// keys without "=", "+" for a space and any bytes in values. It returns
// ErrMalformed for what cannot be decoded unambiguously: a bad percent
// escape, a ";" separator, or more parameters than net/url allows.
func ParseTwilioForm(body []byte) (url.Values, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse twilio form: %w: %w", ErrMalformed, err)
	}
	return values, nil
}

// isForm reports whether contentType is empty or form-encoded.
func isForm(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		media, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		media = strings.TrimSpace(media)
	}
	return media == "application/x-www-form-urlencoded"
}

// validForm reports whether sig signs rawURL and params with token.
func validForm(token, rawURL string, params url.Values, sig string) bool {
	if !repeated(params) {
		single := make(map[string]string, len(params))
		for k, v := range params {
			single[k] = v[0]
		}
		rv := client.NewRequestValidator(token)
		return rv.Validate(rawURL, single, sig)
	}
	valid := false
	for _, u := range urlVariants(rawURL) {
		if hmac.Equal([]byte(SignTwilio(token, u, params)), []byte(sig)) {
			valid = true
		}
	}
	return valid
}

// repeated reports whether any key has several values (or none, which a
// map of single values cannot express either).
func repeated(params url.Values) bool {
	for _, v := range params {
		if len(v) != 1 {
			return true
		}
	}
	return false
}

// urlVariants returns rawURL as given, with the scheme's default port
// added when it has no port, and without its port when it has one: the
// forms twilio-go's validator tries, because Twilio's signer is not
// consistent about ports.
func urlVariants(rawURL string) []string {
	variants := []string{rawURL}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return variants
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if u.Port() != "" {
		u.Host = host
	} else {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	if alt := u.String(); alt != rawURL {
		variants = append(variants, alt)
	}
	return variants
}
