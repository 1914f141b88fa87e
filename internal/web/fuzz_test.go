package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testServer() *Server {
	return &Server{Deps: Deps{MemberKey: []byte(strings.Repeat("k", 32))}}
}

func TestMemberCookie(t *testing.T) {
	s := testServer()
	now := time.Unix(1_800_000_000, 0)
	v := s.signMember(7, 42, now.Add(time.Hour))
	if id, ok := s.verifyMember(v, 7, now); !ok || id != 42 {
		t.Fatalf("valid cookie: %d %v", id, ok)
	}
	cases := map[string]string{
		"other tenant": v,
		"expired":      s.signMember(7, 42, now.Add(-time.Second)),
		"tampered id":  strings.Replace(v, ".42.", ".43.", 1),
		"other key":    (&Server{Deps: Deps{MemberKey: []byte(strings.Repeat("x", 32))}}).signMember(7, 42, now.Add(time.Hour)),
		"no signature": "7.42.9999999999",
		"empty":        "",
	}
	for name, c := range cases {
		tenant := int64(7)
		if name == "other tenant" {
			tenant = 8
		}
		if _, ok := s.verifyMember(c, tenant, now); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzVerifyMember(f *testing.F) {
	s := testServer()
	f.Add(s.signMember(1, 2, time.Unix(2_000_000_000, 0)))
	f.Add("1.2.3.abc")
	f.Add("....")
	f.Fuzz(func(t *testing.T, v string) {
		id, ok := s.verifyMember(v, 1, time.Unix(1_800_000_000, 0))
		if ok && s.signMember(1, id, time.Unix(mustExp(v), 0)) != v {
			t.Fatalf("accepted a cookie it did not sign: %q", v)
		}
	})
}

func mustExp(v string) int64 {
	var t, m, e int64
	parts := strings.Split(v, ".")
	if len(parts) == 4 {
		json.Unmarshal([]byte(parts[0]), &t)
		json.Unmarshal([]byte(parts[1]), &m)
		json.Unmarshal([]byte(parts[2]), &e)
	}
	return e
}

// The chat frame decoder never panics and only "send" frames with a valid
// client id get further.
func FuzzChatFrame(f *testing.F) {
	f.Add([]byte(`{"type":"send","client_id":"abcdefgh","text":"hi"}`))
	f.Add([]byte(`{"type":"send","client_id":"` + strings.Repeat("a", 65) + `"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr frame
		if json.Unmarshal(b, &fr) != nil {
			return
		}
		if validClientID(fr.ClientID) && (len(fr.ClientID) < 8 || len(fr.ClientID) > 64 || strings.ContainsAny(fr.ClientID, ":/ <>\"")) {
			t.Fatalf("client id %q accepted", fr.ClientID)
		}
	})
}
