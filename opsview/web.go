package opsview

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/tasks"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stamp":    Stamp,
	"dash":     Dash,
	"summary":  Summary,
	"customer": Customer,
	"taskURL":  taskURL,
}).ParseFS(templateFS, "templates/*.html"))

// Paths of the pages, under the ops UI's root.
const (
	RequestsPath = "/requests"
	BookingsPath = "/bookings/"
)

// Handler serves the pages under root (the ops UI's, /ops): root+"/requests"
// lists recent requests with the filters of gateway events (query
// parameters outcome, provider, type, booking, since, limit), each event
// linked to its task in the Asynq UI served at root; root+"/bookings/ID"
// is a booking's story. It must sit behind the ops UI's authentication:
// it shows what senders sent, escaped, and contacts masked.
func Handler(root string, src Sources, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	h := &web{root: root, src: src, log: log}
	mux.HandleFunc("GET "+root+RequestsPath, h.requests)
	mux.HandleFunc("GET "+root+BookingsPath+"{id}", h.booking)
	return mux
}

type web struct {
	root string
	src  Sources
	log  *slog.Logger
}

// page is what every template gets.
type page struct {
	Root     string
	Title    string
	Error    string
	Filter   Filter
	Since    string
	Rows     []Row
	Story    Story
	Outcomes []string
}

func (h *web) page(title string) page {
	return page{Root: h.root, Title: title, Outcomes: Outcomes}
}

func (h *web) requests(w http.ResponseWriter, r *http.Request) {
	p := h.page("Requests")
	q := r.URL.Query()
	f, since, err := parseFilter(q, time.Now())
	p.Filter, p.Since = f, since
	if err != nil {
		p.Error = err.Error()
		h.render(w, http.StatusBadRequest, "requests.html", p)
		return
	}
	if p.Rows, err = Requests(r.Context(), h.src, f); err != nil {
		h.fail(w, p, "requests.html", err)
		return
	}
	h.render(w, http.StatusOK, "requests.html", p)
}

// parseFilter reads the filter from query parameters, as gateway events
// reads its flags.
func parseFilter(q url.Values, now time.Time) (Filter, string, error) {
	f := Filter{Outcome: q.Get("outcome"), Provider: q.Get("provider"), Type: q.Get("type"), Limit: 100}
	var errs []error
	if s := q.Get("booking"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			errs = append(errs, errors.New("booking: want a booking id (1 or more)"))
		}
		f.BookingID = id
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = 0
		}
		f.Limit = n
	}
	since := q.Get("since")
	if since != "" {
		if d, err := time.ParseDuration(since); err == nil && d > 0 {
			f.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, since); err == nil {
			f.Since = t
		} else {
			errs = append(errs, errors.New("since: want a duration like 1h or a time like 2025-03-01T18:00:00Z"))
		}
	}
	if err := f.Validate(); err != nil {
		errs = append(errs, err)
	}
	return f, since, errors.Join(errs...)
}

func (h *web) booking(w http.ResponseWriter, r *http.Request) {
	p := h.page("Booking")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		p.Error = "want a booking id (1 or more)"
		h.render(w, http.StatusBadRequest, "booking.html", p)
		return
	}
	p.Title = "Booking #" + strconv.FormatInt(id, 10)
	p.Story, err = BookingStory(r.Context(), h.src, id)
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		p.Error = "no booking " + strconv.FormatInt(id, 10)
		h.render(w, http.StatusNotFound, "booking.html", p)
	case err != nil:
		h.fail(w, p, "booking.html", err)
	default:
		h.render(w, http.StatusOK, "booking.html", p)
	}
}

// fail answers 503: the database or Redis did not answer. The error is
// logged, not shown (it may name hosts).
func (h *web) fail(w http.ResponseWriter, p page, name string, err error) {
	h.log.Warn("ops page", "page", name, "err", err)
	p.Error = "the database or Redis did not answer; see the gateway's log"
	h.render(w, http.StatusServiceUnavailable, name, p)
}

func (h *web) render(w http.ResponseWriter, status int, name string, p page) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		h.log.Error("render ops page", "page", name, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// taskURL is the Asynq UI's page of webhook task id under root (its route
// /queues/:qname/tasks/:taskId), the id escaped as one path segment.
func taskURL(root, id string) template.URL {
	return template.URL(root + "/queues/" + tasks.QueueWebhooks + "/tasks/" + url.PathEscape(id))
}

// IsPage reports whether path is one of the pages Handler serves under
// root (the rest of root is the Asynq UI's).
func IsPage(root, path string) bool {
	return path == root+RequestsPath || strings.HasPrefix(path, root+BookingsPath)
}
