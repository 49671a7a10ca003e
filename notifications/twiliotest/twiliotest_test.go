package twiliotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reserveeasy/gateway/notifications/twiliotest"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "secret"
)

// post sends form to path on srv as sid:pass and returns the status and
// the decoded JSON answer.
func post(t *testing.T, srv *twiliotest.Server, path, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return resp.StatusCode, body
}

const messages = "/2010-04-01/Accounts/" + sid + "/Messages.json"

func TestCreatesMessages(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Config{AccountSID: sid, AuthToken: token})
	form := url.Values{"From": {"+15550001111"}, "To": {"+15559876543"}, "Body": {"Hi"},
		"StatusCallback": {"https://example.com/cb"}}
	var sids []string
	for range 2 {
		status, body := post(t, srv, messages, sid, token, form)
		if status != http.StatusCreated {
			t.Fatalf("status = %d, want 201: %v", status, body)
		}
		got, _ := body["sid"].(string)
		if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(got) {
			t.Errorf("sid = %q, want SM and 32 hex digits", got)
		}
		if body["status"] != "queued" || body["to"] != "+15559876543" || body["account_sid"] != sid {
			t.Errorf("answer = %v, want a queued message to +15559876543", body)
		}
		sids = append(sids, got)
	}
	if sids[0] == sids[1] {
		t.Errorf("both messages got sid %s", sids[0])
	}
	want := []twiliotest.Message{
		{SID: sids[0], AccountSID: sid, From: "+15550001111", To: "+15559876543", Body: "Hi", StatusCallback: "https://example.com/cb", Status: "queued"},
		{SID: sids[1], AccountSID: sid, From: "+15550001111", To: "+15559876543", Body: "Hi", StatusCallback: "https://example.com/cb", Status: "queued"},
	}
	got := srv.Messages()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(twiliotest.Message{}, "DateCreated", "DateSent")); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if time.Since(m.DateSent).Abs() > time.Minute || !m.DateSent.Equal(m.DateCreated) {
			t.Errorf("message %s DateSent = %v, want now", m.SID, m.DateSent)
		}
	}
}

func TestRefuses(t *testing.T) {
	full := url.Values{"From": {"+15550001111"}, "To": {"+15559876543"}, "Body": {"Hi"}}
	without := func(k string) url.Values {
		f := url.Values{}
		for key, v := range full {
			if key != k {
				f[key] = v
			}
		}
		return f
	}
	tests := []struct {
		name       string
		path, pass string
		form       url.Values
		fail       int // srv.Fail(fail) first, 0: don't
		wantStatus int
		wantCode   float64
	}{
		{"wrong token", messages, "wrong", full, 0, 401, 20003},
		{"no To", messages, token, without("To"), 0, 400, 21604},
		{"no Body", messages, token, without("Body"), 0, 400, 21602},
		{"no From", messages, token, without("From"), 0, 400, 21603},
		{"unknown resource", "/2010-04-01/Accounts/" + sid + "/Calls.json", token, full, 0, 404, 20404},
		{"told to fail", messages, token, full, 503, 503, 20503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.Start(t, twiliotest.Config{AccountSID: sid, AuthToken: token})
			if tt.fail != 0 {
				srv.Fail(tt.fail)
			}
			status, body := post(t, srv, tt.path, sid, tt.pass, tt.form)
			if status != tt.wantStatus || body["code"] != tt.wantCode {
				t.Errorf("got %d %v, want %d with code %v", status, body, tt.wantStatus, tt.wantCode)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("created %d messages, want 0", n)
			}
			if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Status != tt.wantStatus {
				t.Errorf("requests = %+v, want one answered %d", reqs, tt.wantStatus)
			}
		})
	}
}

func TestRecover(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Config{})
	form := url.Values{"From": {"+15550001111"}, "To": {"+15559876543"}, "Body": {"Hi"}}
	srv.Fail(http.StatusInternalServerError)
	if status, _ := post(t, srv, messages, sid, token, form); status != 500 {
		t.Fatalf("status while failing = %d, want 500", status)
	}
	srv.Recover()
	if status, _ := post(t, srv, messages, sid, token, form); status != 201 {
		t.Fatalf("status after Recover = %d, want 201", status)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("created %d messages, want 1", n)
	}
}

func TestFetchesMessages(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Config{AccountSID: sid, AuthToken: token})
	_, body := post(t, srv, messages, sid, token, url.Values{"From": {"+15550001111"}, "To": {"+15559876543"}, "Body": {"Hi"}})
	msid, _ := body["sid"].(string)
	get := func(user, pass, msgSID string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL()+"/2010-04-01/Accounts/"+sid+"/Messages/"+msgSID+".json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, got
	}
	if status, got := get(sid, token, msid); status != http.StatusOK || got["status"] != "queued" || got["error_code"] != nil {
		t.Errorf("fetch new message = %d %v, want 200, queued, no error code", status, got)
	}
	if !srv.SetStatus(msid, "undelivered", 30003) {
		t.Fatal("SetStatus: message not found")
	}
	if status, got := get(sid, token, msid); status != http.StatusOK || got["status"] != "undelivered" || got["error_code"] != float64(30003) || got["sid"] != msid {
		t.Errorf("fetch after SetStatus = %d %v, want 200, undelivered, 30003", status, got)
	}
	if status, _ := get(sid, "wrong", msid); status != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", status)
	}
	if status, _ := get(sid, token, "SMnone"); status != http.StatusNotFound {
		t.Errorf("unknown sid: status %d, want 404", status)
	}
	if srv.SetStatus("SMnone", "sent", 0) {
		t.Error("SetStatus of an unknown sid reported true")
	}
	added := srv.AddMessage(twiliotest.Message{AccountSID: sid, To: "+15550000000", Status: "sent"})
	if status, got := get(sid, token, added.SID); status != http.StatusOK || got["status"] != "sent" {
		t.Errorf("fetch added message = %d %v, want 200, sent", status, got)
	}
}
