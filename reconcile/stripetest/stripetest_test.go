package stripetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/reserveeasy/gateway/reconcile/stripetest"
)

type list struct {
	Object  string `json:"object"`
	HasMore bool   `json:"has_more"`
	Data    []struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Type    string `json:"type"`
		Created int64  `json:"created"`
		Data    struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	} `json:"data"`
}

func get(t *testing.T, s *stripetest.Server, key string, q url.Values) (int, list) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/v1/events?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l list
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, l
}

func ids(l list) []string {
	var out []string
	for _, d := range l.Data {
		out = append(out, d.ID)
	}
	return out
}

func TestEventsList(t *testing.T) {
	s := stripetest.Start(t, "rk_test_1")
	s.Add(stripetest.Event{ID: "evt_a", Type: "payment_intent.succeeded", Created: 100, Object: map[string]any{"id": "pi_a"}},
		stripetest.Event{ID: "evt_b", Type: "charge.refunded", Created: 200},
		stripetest.Event{ID: "evt_c", Type: "customer.created", Created: 300},
		stripetest.Event{ID: "evt_d", Type: "payment_intent.succeeded", Created: 400})
	tests := []struct {
		name     string
		q        url.Values
		want     []string
		wantMore bool
	}{
		{"newest first", url.Values{}, []string{"evt_d", "evt_c", "evt_b", "evt_a"}, false},
		{"limit", url.Values{"limit": {"2"}}, []string{"evt_d", "evt_c"}, true},
		{"starting_after", url.Values{"limit": {"2"}, "starting_after": {"evt_c"}}, []string{"evt_b", "evt_a"}, false},
		{"types", url.Values{"types[0]": {"payment_intent.succeeded"}, "types[1]": {"charge.refunded"}}, []string{"evt_d", "evt_b", "evt_a"}, false},
		{"created gte", url.Values{"created[gte]": {"200"}}, []string{"evt_d", "evt_c", "evt_b"}, false},
		{"created lt", url.Values{"created[lt]": {"200"}}, []string{"evt_a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, l := get(t, s, "rk_test_1", tt.q)
			got := ids(l)
			if status != http.StatusOK || l.Object != "list" || l.HasMore != tt.wantMore || len(got) != len(tt.want) {
				t.Fatalf("%d %s has_more=%v %v; want 200 list has_more=%v %v", status, l.Object, l.HasMore, got, tt.wantMore, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("data = %v, want %v", got, tt.want)
				}
			}
		})
	}
	if _, l := get(t, s, "rk_test_1", url.Values{"limit": {"1"}, "starting_after": {"evt_b"}}); len(l.Data) != 1 || l.Data[0].Data.Object["id"] != "pi_a" || l.Data[0].Object != "event" {
		t.Errorf("event resource = %+v, want evt_a with data.object pi_a", l.Data)
	}
	for name, c := range map[string]struct {
		key  string
		q    url.Values
		want int
	}{
		"wrong key":      {"rk_test_2", url.Values{}, http.StatusUnauthorized},
		"unknown cursor": {"rk_test_1", url.Values{"starting_after": {"evt_zz"}}, http.StatusBadRequest},
		"bad limit":      {"rk_test_1", url.Values{"limit": {"101"}}, http.StatusBadRequest},
	} {
		if status, _ := get(t, s, c.key, c.q); status != c.want {
			t.Errorf("%s: status %d, want %d", name, status, c.want)
		}
	}
	s.Fail(http.StatusInternalServerError)
	if status, _ := get(t, s, "rk_test_1", url.Values{}); status != http.StatusInternalServerError {
		t.Errorf("after Fail(500): status %d", status)
	}
}
