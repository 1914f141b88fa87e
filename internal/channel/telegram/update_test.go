package telegram

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	const group, title = "-1001234567890", "Spring Live Sale"
	mei := channel.User{ID: "6123456789", Name: "Mei Lin"}
	meiAt := channel.User{ID: "6123456789", Name: "Mei Lin", Username: "meilin"}
	ana := channel.User{ID: "5000000001", Name: "Ana", Username: "ana_seller"}
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

	for _, tc := range []struct {
		file string
		want []channel.Inbound
	}{
		{"message_supergroup.json", []channel.Inbound{{Kind: channel.InboundMessage, ID: "u873450001",
			Chat: group, ChatTitle: title, User: meiAt, Text: "I'll take 2 ¥9.9! <b>now</b>",
			MessageID: "4521", At: at(1700000000)}}},
		{"new_chat_members.json", []channel.Inbound{
			{Kind: channel.InboundJoin, ID: "u873450002", Chat: group, ChatTitle: title, User: ana,
				Users: []channel.User{mei}, MessageID: "4522", At: at(1700000060)},
			{Kind: channel.InboundBotAdded, ID: "u873450002/bot_added", Chat: group, ChatTitle: title, User: ana,
				MessageID: "4522", At: at(1700000060)},
		}},
		{"left_chat_member.json", []channel.Inbound{{Kind: channel.InboundLeave, ID: "u873450003", Chat: group,
			ChatTitle: title, User: mei, Users: []channel.User{mei}, MessageID: "4523", At: at(1700000120)}}},
		{"left_chat_member_bot.json", []channel.Inbound{{Kind: channel.InboundBotRemoved, ID: "u873450004",
			Chat: group, ChatTitle: title, User: ana, MessageID: "4524", At: at(1700000180)}}},
		{"chat_member_join.json", []channel.Inbound{{Kind: channel.InboundJoin, ID: "u873450005", Chat: group,
			ChatTitle: title, User: mei, Users: []channel.User{mei}, At: at(1700000061)}}},
		{"chat_member_leave.json", []channel.Inbound{{Kind: channel.InboundLeave, ID: "u873450006", Chat: group,
			ChatTitle: title, User: ana, Users: []channel.User{mei}, At: at(1700000240)}}},
		{"chat_member_restricted.json", nil},
		{"my_chat_member_kicked.json", []channel.Inbound{{Kind: channel.InboundBotRemoved, ID: "u873450008",
			Chat: group, ChatTitle: title, User: ana, At: at(1700000300)}}},
		{"my_chat_member_added.json", []channel.Inbound{{Kind: channel.InboundBotAdded, ID: "u873450009",
			Chat: "-4012345678", ChatTitle: "Regulars", User: ana, At: at(1700000310)}}},
		{"my_chat_member_blocked.json", []channel.Inbound{{Kind: channel.InboundUnfollow, ID: "u873450010",
			Chat: "6123456789", Private: true, User: mei, At: at(1700000320)}}},
		{"callback_query.json", []channel.Inbound{{Kind: channel.InboundButton, ID: "u873450011", Chat: group,
			ChatTitle: title, User: meiAt, Data: "claim:42", ReplyToken: "4382bfdwdsb323b2d9", MessageID: "4530"}}},
		{"migrate_to_chat_id.json", []channel.Inbound{{Kind: channel.InboundMigrate, ID: "u873450012",
			Chat: "-4012345678", ChatTitle: "Regulars", NewChat: "-1009876543210", User: ana, MessageID: "88",
			At: at(1700000500)}}},
		{"migrate_from_chat_id.json", []channel.Inbound{{Kind: channel.InboundMigrate, ID: "u873450013",
			Chat: "-4012345678", ChatTitle: "Regulars", NewChat: "-1009876543210",
			User:      channel.User{ID: "1087968824", Name: "Group", Username: "GroupAnonymousBot", IsBot: true},
			MessageID: "1", At: at(1700000500)}}},
		{"private_start.json", []channel.Inbound{
			{Kind: channel.InboundFollow, ID: "u873450014", Chat: "6123456789", Private: true, User: meiAt,
				At: at(1700000600)},
			{Kind: channel.InboundMessage, ID: "u873450014/message", Chat: "6123456789", Private: true, User: meiAt,
				Text: "/start join-spring", MessageID: "1365", At: at(1700000600)},
		}},
		{"edited_message.json", nil},
		{"sticker.json", nil},
		{"channel_post.json", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := newChannel(t, "")
			got, err := c.Parse(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestParseJoinTwice: one join arrives as new_chat_members and as
// chat_member; both are reported, each under its own id.
func TestParseJoinTwice(t *testing.T) {
	c := newChannel(t, "")
	a, err1 := c.Parse(fixture(t, "new_chat_members.json"))
	b, err2 := c.Parse(fixture(t, "chat_member_join.json"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a[0].Kind != channel.InboundJoin || b[0].Kind != channel.InboundJoin || a[0].ID == b[0].ID ||
		a[0].Users[0].ID != b[0].Users[0].ID {
		t.Fatalf("%+v / %+v", a[0], b[0])
	}
}

func TestParseStartVariants(t *testing.T) {
	c := newChannel(t, "")
	for text, follow := range map[string]bool{
		"/start": true, "/start abc": true, "/start@liveloop_shop_bot": true, "/startle": false,
		"hello /start": false, " /start": true, "/help": false,
	} {
		body := []byte(`{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":6123456789,"type":"private"},` +
			`"from":{"id":6123456789,"is_bot":false,"first_name":"Mei"},"text":` + quote(text) + `}}`)
		got, err := c.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		if gotFollow := got[0].Kind == channel.InboundFollow; gotFollow != follow {
			t.Errorf("%q: follow = %v, want %v (%+v)", text, gotFollow, follow, got)
		}
		if last := got[len(got)-1]; last.Kind != channel.InboundMessage || last.Text != text {
			t.Errorf("%q: message %+v", text, last)
		}
	}
	// /start in a group is just a message.
	got, err := c.Parse([]byte(`{"update_id":8,"message":{"message_id":1,"date":1,"chat":{"id":-100123,"type":"supergroup"},"text":"/start"}}`))
	if err != nil || len(got) != 1 || got[0].Kind != channel.InboundMessage {
		t.Errorf("group /start: %+v, %v", got, err)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestParseMalformed(t *testing.T) {
	c := newChannel(t, "")
	for name, body := range map[string]string{
		"empty":           "",
		"null":            "null",
		"array":           `[{"update_id":1}]`,
		"string":          `"update"`,
		"truncated":       `{"update_id":1,"message":{`,
		"no update_id":    `{"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`,
		"empty object":    `{}`,
		"string id":       `{"update_id":"1"}`,
		"fractional id":   `{"update_id":1.5}`,
		"id over int64":   `{"update_id":99999999999999999999}`,
		"string chat id":  `{"update_id":1,"message":{"message_id":1,"chat":{"id":"x","type":"group"},"text":"PRIVATE-TEXT"}}`,
		"trailing":        `{"update_id":1} {"update_id":2}`,
		"html":            `<html>502 Bad Gateway</html>`,
		"members as dict": `{"update_id":1,"message":{"message_id":1,"chat":{"id":-1,"type":"group"},"new_chat_members":{"id":1}}}`,
		"oversized":       `{"update_id":1,"x":"` + strings.Repeat("a", channel.MaxWebhookBody) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := c.Parse([]byte(body))
			if !errors.Is(err, channel.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
			if strings.Contains(err.Error(), "PRIVATE-TEXT") {
				t.Errorf("error quotes the body: %v", err)
			}
		})
	}
}

// TestParseUnknownFields: fields and update kinds liveloop does not know
// (future Bot API versions) are not malformed.
func TestParseUnknownFields(t *testing.T) {
	c := newChannel(t, "")
	for _, body := range []string{
		`{"update_id":1,"message_reaction":{"chat":{"id":-100,"type":"supergroup"},"new_reaction":[{"type":"paid"}]}}`,
		`{"update_id":2,"brand_new_kind":{"x":1}}`,
		`{"update_id":3,"message":{"message_id":1,"date":1,"chat":{"id":-100,"type":"supergroup"},"text":"hi","forward_origin":{"type":"future_kind"},"new_field":[1,2]}}`,
	} {
		if _, err := c.Parse([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

var fixtureNames = []string{
	"message_supergroup.json", "new_chat_members.json", "left_chat_member.json", "left_chat_member_bot.json",
	"chat_member_join.json", "chat_member_leave.json", "chat_member_restricted.json",
	"my_chat_member_kicked.json", "my_chat_member_added.json", "my_chat_member_blocked.json",
	"callback_query.json", "migrate_to_chat_id.json", "migrate_from_chat_id.json", "private_start.json",
	"edited_message.json", "sticker.json", "channel_post.json",
}

// FuzzParse: Parse never panics; it either refuses with ErrMalformed or
// returns events that each carry a kind and an id of the update.
func FuzzParse(f *testing.F) {
	for _, name := range fixtureNames {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"update_id":1}`))
	f.Add([]byte(`{"update_id":-1,"message":null}`))
	f.Add([]byte(`[]`))
	c := newChannel(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := c.Parse(body)
		if err != nil {
			if !errors.Is(err, channel.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, in := range got {
			if in.Kind == "" || !strings.HasPrefix(in.ID, "u") || seen[in.ID] {
				t.Fatalf("bad event %+v in %+v", in, got)
			}
			seen[in.ID] = true
		}
	})
}

func BenchmarkParse(b *testing.B) {
	c := newChannel(b, "")
	body := fixture(b, "message_supergroup.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
