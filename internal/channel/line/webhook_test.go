package line

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/line/linetest"
)

func header(sig string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set("X-Line-Signature", sig)
	}
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	// A known vector, computed outside Go:
	//   printf '%s' "$body" | openssl dgst -sha256 -hmac testsecret -binary | base64
	const secret = "testsecret"
	body := []byte(`{"destination":"xxxxxxxxxx","events":[]}`)
	const want = "GxG/uv2rph+GTZTytfrel/B51N94Gg6B3SlDUaDMITU="
	c, err := New(Config{ChannelSecret: secret, AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.ValidateSignature(secret, want, body) || linetest.Sign(secret, body) != want {
		t.Fatal("the vector disagrees with the SDK or linetest")
	}
	if err := c.Verify(header(want), body); err != nil {
		t.Fatalf("Verify(right signature) = %v", err)
	}
	altered := append([]byte(nil), body...)
	altered[len(altered)-2] = '}' // one byte changed
	otherSecret, _ := New(Config{ChannelSecret: "testsecreu", AccessToken: "t"})
	for name, tc := range map[string]struct {
		c    *Channel
		sig  string
		body []byte
	}{
		"missing":      {c, "", body},
		"undecodable":  {c, "not base64!", body},
		"wrong":        {c, "yZ0sEBNr802lo6D8XY64jfhsGo0NPH8e+MO7oxSGgu0=", body},
		"truncated":    {c, want[:20], body},
		"altered body": {c, want, altered},
		"other secret": {otherSecret, want, body},
	} {
		err := tc.c.Verify(header(tc.sig), tc.body)
		if !errors.Is(err, channel.ErrUnauthorized) {
			t.Errorf("%s: Verify = %v, want ErrUnauthorized", name, err)
		}
		if webhook.ValidateSignature(secret, tc.sig, tc.body) && tc.c == c {
			t.Errorf("%s: the SDK accepts what Verify refuses", name)
		}
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	c, _, _ := newLine(t)
	at := time.UnixMilli(1462629479859).UTC()
	for _, tc := range []struct {
		file string
		want []channel.Inbound
	}{
		{"text_group.json", []channel.Inbound{{Kind: channel.InboundMessage, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "Ca56f94637c...", User: channel.User{ID: "U4af4980629..."}, Text: "@All @example Good Morning!! (love)",
			MessageID: "444573844083572737", ReplyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", At: at}}},
		{"text_group_no_user.json", []channel.Inbound{{Kind: channel.InboundMessage, ID: "01FZ74ASS536FW97EX38NKCZQK",
			Chat: "Ca56f94637c...", Text: "@All @example Good Morning!! (love)",
			MessageID: "444573844083572737", ReplyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", At: at}}},
		{"text_user.json", []channel.Inbound{{Kind: channel.InboundMessage, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "U4af4980629...", Private: true, User: channel.User{ID: "U4af4980629..."}, Text: "Good Morning!!",
			MessageID: "468789577898262530", ReplyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", At: at}}},
		{"redelivered.json", []channel.Inbound{{Kind: channel.InboundMessage, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "U4af4980629...", Private: true, User: channel.User{ID: "U4af4980629..."}, Text: "Good Morning!!",
			MessageID: "468789577898262530", Redelivery: true, At: at}}},
		{"member_joined.json", []channel.Inbound{{Kind: channel.InboundJoin, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "C4af4980629...", Users: []channel.User{{ID: "U4af4980629..."}, {ID: "U91eeaf62d9..."}},
			ReplyToken: "0f3779fba3b349968c5d07db31eabf65", At: at}}},
		{"member_left.json", []channel.Inbound{{Kind: channel.InboundLeave, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "C4af4980629...", Users: []channel.User{{ID: "U4af4980629..."}, {ID: "U91eeaf62d9..."}},
			At: time.UnixMilli(1462629479960).UTC()}}},
		{"join.json", []channel.Inbound{{Kind: channel.InboundBotAdded, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "C4af4980629...", ReplyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", At: at}}},
		{"leave.json", []channel.Inbound{{Kind: channel.InboundBotRemoved, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "C4af4980629...", At: at}}},
		{"follow.json", []channel.Inbound{{Kind: channel.InboundFollow, ID: "01HMQGW40RZJPJM3RAJP7BHC2Q",
			Chat: "U3d3edab4f36c6292e6d8a8131f141b8b", Private: true, User: channel.User{ID: "U3d3edab4f36c6292e6d8a8131f141b8b"},
			ReplyToken: "85cbe770fa8b4f45bbe077b1d4be4a36", At: time.UnixMilli(1705891467176).UTC()}}},
		{"unfollow.json", []channel.Inbound{{Kind: channel.InboundUnfollow, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "U4af4980629...", Private: true, User: channel.User{ID: "U4af4980629..."}, At: at}}},
		{"postback.json", []channel.Inbound{{Kind: channel.InboundButton, ID: "01FZ74A0TDDPYRVKNK77XKC3ZR",
			Chat: "C4af4980629...", User: channel.User{ID: "U91eeaf62d..."}, Data: "storeId=12345",
			ReplyToken: "b60d432864f44d079f6d8efe86cf404b", At: time.UnixMilli(1513669370317).UTC()}}},
		{"image.json", nil},
		{"verify.json", nil},
	} {
		body := fixture(t, tc.file)
		got, err := c.Parse(body)
		if err != nil {
			t.Errorf("%s: Parse = %v", tc.file, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseMixedDelivery(t *testing.T) {
	t.Parallel()
	c, _, logs := newLine(t)
	body := linetest.Callback(
		linetest.TextMessage(linetest.Event{ID: "e1", Chat: group, User: alice, ReplyToken: "rt"}, "m1", "+1"),
		json.RawMessage(`{"type":"unsend","webhookEventId":"e2","source":{"type":"group","groupId":"`+group+`"},"unsend":{"messageId":"m1"}}`),
		json.RawMessage(`{"type":"message","webhookEventId":"e3","source":{"type":"user","userId":"`+alice+`"},"message":{"type":"sticker","id":"1","packageId":"446","stickerId":"1988"}}`),
		linetest.TextMessage(linetest.Event{Chat: group, User: alice}, "m4", "no event id: secret-text"),
		json.RawMessage(`{"type":"message","webhookEventId":"e5","timestamp":"not a number","message":{"type":"text","text":"bad"}}`),
		json.RawMessage(`null`),
		json.RawMessage(`{"type":"message","webhookEventId":"e7","message":{"type":"text","id":"7","text":"no source"}}`),
		linetest.MemberJoined(linetest.Event{ID: "e8", Chat: room, User: bob}, alice),
		linetest.Postback(linetest.Event{ID: "e9", Chat: group, User: bob, Redelivery: true}, "claim:42"),
		linetest.Follow(linetest.Event{ID: "e10", User: bob}),
		linetest.MemberLeft(linetest.Event{ID: "e11", Chat: group, ReplyToken: "ignored"}, alice, bob),
	)
	got, err := c.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range got {
		ids = append(ids, in.ID+":"+string(in.Kind))
	}
	want := []string{"e1:message", "e8:join", "e9:button", "e10:follow", "e11:leave"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("Parse kept %v, want %v", ids, want)
	}
	if j := got[1]; j.Chat != room || j.User.ID != "" || len(j.Users) != 1 || j.Users[0].ID != alice {
		t.Errorf("memberJoined: %+v (the joiner is in joined.members, not source.userId)", j)
	}
	if b := got[2]; b.Data != "claim:42" || !b.Redelivery || b.User.ID != bob || b.Chat != group {
		t.Errorf("postback: %+v", b)
	}
	if f := got[3]; !f.Private || f.Chat != bob || f.User.ID != bob {
		t.Errorf("follow: %+v", f)
	}
	if l := got[4]; len(l.Users) != 2 || l.ReplyToken != "" {
		t.Errorf("memberLeft: %+v", l)
	}
	log := logs.String()
	if !strings.Contains(log, "without webhookEventId") || !strings.Contains(log, "undecodable") {
		t.Errorf("dropped events not logged: %s", log)
	}
	if strings.Contains(log, "secret-text") || strings.Contains(log, "no source") {
		t.Errorf("log carries member text: %s", log)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	c, _, _ := newLine(t)
	for _, body := range []string{
		``, `null`, `[]`, `"events"`, `{}`, `{"destination":"x"}`, `{"events":null}`,
		`{"events":{}}`, `{"events":[}`, `{"events":[]`, `<xml/>`, `{"events":"[]"}`,
	} {
		if got, err := c.Parse([]byte(body)); !errors.Is(err, channel.ErrMalformed) || got != nil {
			t.Errorf("Parse(%q) = %v, %v; want ErrMalformed", body, got, err)
		} else if strings.Contains(err.Error(), body) && body != "" {
			t.Errorf("Parse(%q): error echoes the body: %v", body, err)
		}
	}
	// The console's Verify button, with or without destination.
	for _, body := range []string{`{"destination":"x","events":[]}`, `{"events":[]}`} {
		if got, err := c.Parse([]byte(body)); err != nil || len(got) != 0 {
			t.Errorf("Parse(%s) = %v, %v; want nothing", body, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"text_group.json", "member_joined.json", "postback.json", "image.json", "verify.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"events":[null,1,"x",{"type":"message","message":null,"source":null}]}`))
	f.Add([]byte(`{"events":[{"type":"memberJoined","joined":null},{"type":"postback","postback":null}]}`))
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = c.Verify(header(linetest.Sign(testSecret, body)), body)
		_ = c.Verify(header(string(body)), body)
		got, err := c.Parse(body)
		if err != nil && !errors.Is(err, channel.ErrMalformed) {
			t.Fatalf("Parse error %v is not ErrMalformed", err)
		}
		for _, in := range got {
			if in.ID == "" || in.Chat == "" {
				t.Fatalf("Parse kept an event without id or chat: %+v", in)
			}
		}
	})
}

func BenchmarkVerifyParse(b *testing.B) {
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken})
	if err != nil {
		b.Fatal(err)
	}
	body := linetest.Callback(
		linetest.TextMessage(linetest.Event{ID: "01FZ74A0TDDPYRVKNK77XKC3ZR", Chat: group, User: alice, ReplyToken: "rt"}, "1", "+1 size M"),
		linetest.MemberJoined(linetest.Event{ID: "01FZ74A0TDDPYRVKNK77XKC3ZS", Chat: group}, alice, bob),
		linetest.Postback(linetest.Event{ID: "01FZ74A0TDDPYRVKNK77XKC3ZT", Chat: group, User: bob}, "claim:42"),
	)
	h := header(linetest.Sign(testSecret, body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Verify(h, body); err != nil {
			b.Fatal(err)
		}
		if got, err := c.Parse(body); err != nil || len(got) != 3 {
			b.Fatal(got, err)
		}
	}
}
