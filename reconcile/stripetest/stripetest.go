// Package stripetest is a fake of Stripe's events API for tests: an
// httptest server answering GET /v1/events the way Stripe does (a list
// object, newest first, limit and starting_after pagination with has_more,
// the types[] and created[gt|gte|lt|lte] filters, Bearer key auth) over
// the events a test adds, and able to fail on demand.
package stripetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Event is one event the server serves.
type Event struct {
	ID         string
	Type       string
	Created    int64 // Unix seconds
	Livemode   bool
	APIVersion string // default 2023-10-16
	// Object is data.object, any JSON object (a PaymentIntent, a Charge).
	Object map[string]any
}

// Request is what the server saw of one request.
type Request struct {
	Method, Path string
	Query        url.Values
	Status       int
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	key string

	mu       sync.Mutex
	events   []Event
	requests []Request
	fail     int // non-zero: answer every request with this status
}

// Start starts a fake Stripe API accepting the API key key (sent as
// "Authorization: Bearer key", as stripe-go does); it stops when tb ends.
func Start(tb testing.TB, key string) *Server {
	tb.Helper()
	s := &Server{key: key}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to give the client (STRIPE_API_BASE_URL).
func (s *Server) URL() string { return s.srv.URL }

// Add makes the server serve evs too.
func (s *Server) Add(evs ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evs...)
}

// Fail makes every later request get status with Stripe's error JSON;
// Fail(0) serves normally again.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = status
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	status, body := s.respond(r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: status})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func stripeError(status int, typ, msg string) (int, []byte) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": typ, "message": msg}})
	return status, b
}

func (s *Server) respond(r *http.Request) (int, []byte) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	switch {
	case fail != 0:
		return stripeError(fail, "api_error", "Something went wrong on Stripe's end.")
	case r.Header.Get("Authorization") != "Bearer "+s.key:
		return stripeError(http.StatusUnauthorized, "invalid_request_error", "Invalid API Key provided.")
	case r.URL.Path != "/v1/events":
		return stripeError(http.StatusNotFound, "invalid_request_error", "Unrecognized request URL ("+r.Method+": "+r.URL.Path+").")
	case r.Method != http.MethodGet:
		return stripeError(http.StatusMethodNotAllowed, "invalid_request_error", "Method not allowed.")
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return stripeError(http.StatusBadRequest, "invalid_request_error", "Invalid limit: must be an integer between 1 and 100.")
		}
		limit = n
	}
	match, err := filter(q)
	if err != nil {
		return stripeError(http.StatusBadRequest, "invalid_request_error", err.Error())
	}
	s.mu.Lock()
	evs := make([]Event, 0, len(s.events))
	for _, ev := range s.events {
		if match(ev) {
			evs = append(evs, ev)
		}
	}
	s.mu.Unlock()
	// Newest first; events of one second by id, like Stripe's stable order.
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].Created != evs[j].Created {
			return evs[i].Created > evs[j].Created
		}
		return evs[i].ID > evs[j].ID
	})
	if after := q.Get("starting_after"); after != "" {
		i := 0
		for i < len(evs) && evs[i].ID != after {
			i++
		}
		if i == len(evs) {
			return stripeError(http.StatusBadRequest, "invalid_request_error", "No such event: '"+after+"'")
		}
		evs = evs[i+1:]
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	data := make([]any, len(evs))
	for i, ev := range evs {
		data[i] = resource(ev)
	}
	b, _ := json.Marshal(map[string]any{"object": "list", "url": "/v1/events", "has_more": more, "data": data})
	return http.StatusOK, b
}

// filter returns the match of the request's types[] and created filters.
func filter(q url.Values) (func(Event) bool, error) {
	types := map[string]bool{}
	type bound struct {
		op string
		v  int64
	}
	var bounds []bound
	for k, vs := range q {
		switch {
		case k == "type":
			types[vs[0]] = true
		case strings.HasPrefix(k, "types["):
			for _, v := range vs {
				types[v] = true
			}
		case k == "created" || strings.HasPrefix(k, "created["):
			op := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k, "created"), "["), "]")
			if op == "" {
				op = "eq"
			}
			n, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || (op != "eq" && op != "gt" && op != "gte" && op != "lt" && op != "lte") {
				return nil, errInvalid("Invalid " + k)
			}
			bounds = append(bounds, bound{op, n})
		}
	}
	return func(ev Event) bool {
		if len(types) > 0 && !types[ev.Type] {
			return false
		}
		for _, b := range bounds {
			c := ev.Created
			ok := map[string]bool{"eq": c == b.v, "gt": c > b.v, "gte": c >= b.v, "lt": c < b.v, "lte": c <= b.v}[b.op]
			if !ok {
				return false
			}
		}
		return true
	}, nil
}

type errInvalid string

func (e errInvalid) Error() string { return string(e) }

// resource is the event object Stripe answers.
func resource(ev Event) map[string]any {
	v := ev.APIVersion
	if v == "" {
		v = "2023-10-16"
	}
	return map[string]any{
		"id": ev.ID, "object": "event", "api_version": v, "created": ev.Created,
		"data": map[string]any{"object": ev.Object}, "livemode": ev.Livemode,
		"pending_webhooks": 0, "request": map[string]any{"id": nil, "idempotency_key": nil}, "type": ev.Type,
	}
}
