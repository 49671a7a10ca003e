package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// list answers the Messages list like Twilio: the account's messages
// matching To, From and DateSent> (RFC 3339; a message not sent yet has no
// date_sent and never matches it), newest first, PageSize (default
// 50) per page, Page counting from 0, next_page_uri null on the last page.
func (s *Server) list(account, path string, q url.Values) (int, []byte) {
	size, err := strconv.Atoi(q.Get("PageSize"))
	if q.Get("PageSize") == "" {
		size, err = 50, nil
	}
	page, perr := strconv.Atoi(q.Get("Page"))
	if q.Get("Page") == "" {
		page, perr = 0, nil
	}
	var after time.Time
	var aerr error
	if v := q.Get("DateSent>"); v != "" {
		after, aerr = time.Parse(time.RFC3339, v)
	}
	if err != nil || size < 1 || size > 1000 || perr != nil || page < 0 || aerr != nil {
		b, _ := json.Marshal(map[string]any{"code": 20001, "message": "Invalid paging or date parameter", "status": 400})
		return http.StatusBadRequest, b
	}
	s.mu.Lock()
	var match []Message
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.AccountSID == account && (q.Get("To") == "" || m.To == q.Get("To")) &&
			(q.Get("From") == "" || m.From == q.Get("From")) && !m.DateSent.Before(after) {
			match = append(match, m)
		}
	}
	s.mu.Unlock()
	uri := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "DateSent>"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(p))
		if p > 0 {
			v.Set("PageToken", fmt.Sprintf("PA%d", p))
		}
		return path + "?" + v.Encode()
	}
	start := min(page*size, len(match))
	end := min(start+size, len(match))
	msgs := []map[string]any{}
	for _, m := range match[start:end] {
		msgs = append(msgs, fields(m, true))
	}
	var next, prev any
	if end < len(match) {
		next = uri(page + 1)
	}
	if page > 0 {
		prev = uri(page - 1)
	}
	b, _ := json.Marshal(map[string]any{"messages": msgs, "page": page, "page_size": size,
		"start": start, "end": max(end-1, start), "uri": uri(page), "first_page_uri": uri(0),
		"next_page_uri": next, "previous_page_uri": prev})
	return http.StatusOK, b
}
