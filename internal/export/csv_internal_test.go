package export

import "testing"

// TestCompactDropsReplyTokens: the events export leaves out a platform's
// short-lived reply token and keeps the rest of the data.
func TestCompactDropsReplyTokens(t *testing.T) {
	got := compact(`{"text": "hi", "reply_token": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"}`)
	if got != `{"text":"hi"}` {
		t.Fatalf("%s", got)
	}
	if got := compact(`{ "text": "hi" }`); got != `{"text":"hi"}` {
		t.Fatalf("%s", got)
	}
}
