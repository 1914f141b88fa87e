package telegram

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

// SecretHeader carries the webhook's secret_token on every delivery.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// The structs below hold the few fields of an Update liveloop uses. They
// are this package's own rather than the SDK's models because models
// decode every field of every update, and its union types (ChatMember,
// MessageOrigin, ReactionType…) fail on a variant they do not know: a
// valid update with a field liveloop ignores would become "malformed" and
// be lost. Fields not listed here are skipped by encoding/json.

type update struct {
	UpdateID      *int64         `json:"update_id"`
	Message       *message       `json:"message"`
	CallbackQuery *callbackQuery `json:"callback_query"`
	ChatMember    *memberUpdate  `json:"chat_member"`
	MyChatMember  *memberUpdate  `json:"my_chat_member"`
	// edited_message, channel_post, reactions… are not decoded: ignored.
}

type user struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type chat struct {
	ID    int64  `json:"id"`
	Type  string `json:"type"` // private, group, supergroup, channel
	Title string `json:"title"`
}

type message struct {
	MessageID            int64  `json:"message_id"`
	From                 *user  `json:"from"`
	Date                 int64  `json:"date"`
	Chat                 chat   `json:"chat"`
	Text                 string `json:"text"`
	NewChatMembers       []user `json:"new_chat_members"`
	LeftChatMember       *user  `json:"left_chat_member"`
	GroupChatCreated     bool   `json:"group_chat_created"`
	SupergroupChatCreate bool   `json:"supergroup_chat_created"`
	MigrateToChatID      int64  `json:"migrate_to_chat_id"`
	MigrateFromChatID    int64  `json:"migrate_from_chat_id"`
}

type callbackQuery struct {
	ID      string   `json:"id"`
	From    user     `json:"from"`
	Message *message `json:"message"` // absent for inline-mode messages
	Data    string   `json:"data"`
}

// memberUpdate is a ChatMemberUpdated: someone's status in a chat changed.
type memberUpdate struct {
	Chat          chat       `json:"chat"`
	From          user       `json:"from"`
	Date          int64      `json:"date"`
	OldChatMember chatMember `json:"old_chat_member"`
	NewChatMember chatMember `json:"new_chat_member"`
}

type chatMember struct {
	Status   string `json:"status"` // creator, administrator, member, restricted, left, kicked
	User     user   `json:"user"`
	IsMember bool   `json:"is_member"` // restricted only: still in the chat
}

// in tells whether the status means "in the chat".
func (m chatMember) in() bool {
	switch m.Status {
	case "creator", "administrator", "member":
		return true
	case "restricted":
		return m.IsMember
	}
	return false
}

// Verify checks the secret token Telegram sends with every webhook
// delivery, in constant time. Without a configured WebhookSecret every
// delivery is refused: anyone could post forged updates otherwise.
func (c *Channel) Verify(header http.Header, _ []byte) error {
	got := header.Get(SecretHeader)
	if c.secret == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.secret)) != 1 {
		return channel.ErrUnauthorized
	}
	return nil
}

// Parse normalises one webhook delivery (Telegram posts one Update per
// request). Kinds liveloop does not use (edited messages, channel posts,
// stickers and photos without text…) return none.
func (c *Channel) Parse(body []byte) ([]channel.Inbound, error) {
	if len(body) > channel.MaxWebhookBody {
		return nil, fmt.Errorf("%w: body over %d bytes", channel.ErrMalformed, channel.MaxWebhookBody)
	}
	var u update
	if err := decodeUpdate(body, &u); err != nil {
		return nil, err
	}
	return c.inbound(&u), nil
}

// decodeUpdate decodes one Update; ErrMalformed when it is not one. The
// decoder's error is not quoted: it can echo member text.
func decodeUpdate(body []byte, u *update) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", channel.ErrMalformed)
	}
	if err := json.Unmarshal(body, u); err != nil {
		return fmt.Errorf("%w: not a Telegram update", channel.ErrMalformed)
	}
	if u.UpdateID == nil {
		return fmt.Errorf("%w: no update_id", channel.ErrMalformed)
	}
	return nil
}

// inbound maps a decoded update. When one update yields several events,
// the first has the ID "u<update_id>" and the others add "/<kind>", so
// that each is stored once and none hides another.
func (c *Channel) inbound(u *update) []channel.Inbound {
	id := "u" + strconv.FormatInt(*u.UpdateID, 10)
	var out []channel.Inbound
	add := func(in channel.Inbound) {
		in.ID = id
		if len(out) > 0 {
			in.ID += "/" + string(in.Kind)
		}
		out = append(out, in)
	}
	switch {
	case u.Message != nil:
		c.fromMessage(u.Message, add)
	case u.CallbackQuery != nil:
		fromCallback(u.CallbackQuery, add)
	case u.ChatMember != nil:
		fromChatMember(u.ChatMember, add)
	case u.MyChatMember != nil:
		fromMyChatMember(u.MyChatMember, add)
	}
	return out
}

func (c *Channel) fromMessage(m *message, add func(channel.Inbound)) {
	base := channel.Inbound{
		Chat:      strconv.FormatInt(m.Chat.ID, 10),
		Private:   m.Chat.Type == "private",
		ChatTitle: m.Chat.Title,
		MessageID: strconv.FormatInt(m.MessageID, 10),
		At:        unix(m.Date),
	}
	if m.From != nil {
		base.User = toUser(*m.From)
	}
	if m.Chat.Type == "channel" {
		return // channel posts arrive as channel_post; a stray one is not a community's
	}
	switch {
	case m.MigrateToChatID != 0:
		in := base
		in.Kind, in.NewChat = channel.InboundMigrate, strconv.FormatInt(m.MigrateToChatID, 10)
		add(in)
	case m.MigrateFromChatID != 0:
		// The same migration seen from the new supergroup; either may be
		// the one that arrives, and applying a migration twice is a no-op.
		in := base
		in.Kind, in.Chat, in.NewChat = channel.InboundMigrate, strconv.FormatInt(m.MigrateFromChatID, 10), base.Chat
		add(in)
	case len(m.NewChatMembers) > 0 || m.GroupChatCreated || m.SupergroupChatCreate:
		c.fromJoined(base, m, add)
	case m.LeftChatMember != nil:
		in := base
		if m.LeftChatMember.ID == c.botID {
			in.Kind = channel.InboundBotRemoved
		} else {
			in.Kind, in.Users = channel.InboundLeave, []channel.User{toUser(*m.LeftChatMember)}
		}
		add(in)
	case m.Text != "":
		if base.Private && isStart(m.Text) {
			follow := base
			follow.Kind, follow.MessageID = channel.InboundFollow, ""
			add(follow)
		}
		in := base
		in.Kind, in.Text = channel.InboundMessage, m.Text
		add(in)
	}
}

// fromJoined maps new_chat_members: members who joined, and the bot when
// it is among them (or created the group with the bot in it).
func (c *Channel) fromJoined(base channel.Inbound, m *message, add func(channel.Inbound)) {
	join := base
	join.Kind = channel.InboundJoin
	botAdded := m.GroupChatCreated || m.SupergroupChatCreate
	for _, u := range m.NewChatMembers {
		if u.ID == c.botID {
			botAdded = true
			continue
		}
		join.Users = append(join.Users, toUser(u))
	}
	if len(join.Users) > 0 {
		add(join)
	}
	if botAdded {
		in := base
		in.Kind = channel.InboundBotAdded
		add(in)
	}
}

func fromCallback(q *callbackQuery, add func(channel.Inbound)) {
	if q.Data == "" {
		return // a game button, not one of liveloop's
	}
	in := channel.Inbound{
		Kind: channel.InboundButton,
		User: toUser(q.From),
		Data: q.Data,
		// The callback query's id answers it (AnswerCallback): it is this
		// event's reply token.
		ReplyToken: q.ID,
	}
	if q.Message != nil {
		in.Chat = strconv.FormatInt(q.Message.Chat.ID, 10)
		in.Private = q.Message.Chat.Type == "private"
		in.ChatTitle = q.Message.Chat.Title
		in.MessageID = strconv.FormatInt(q.Message.MessageID, 10)
	}
	add(in)
}

// fromChatMember maps a member's status change. The same join may also
// arrive as new_chat_members under another update_id; liveloop counts the
// member once because joining an active membership is a no-op.
func fromChatMember(u *memberUpdate, add func(channel.Inbound)) {
	was, is := u.OldChatMember.in(), u.NewChatMember.in()
	if was == is || u.Chat.Type == "channel" {
		return // a promotion, a restriction, a channel subscriber: not a join or leave
	}
	in := memberEvent(u)
	in.Users = []channel.User{toUser(u.NewChatMember.User)}
	in.Kind = channel.InboundLeave
	if is {
		in.Kind = channel.InboundJoin
	}
	add(in)
}

// fromMyChatMember maps the bot's own status change: added to or removed
// from a group, or, in a private chat, blocked or unblocked by the user.
func fromMyChatMember(u *memberUpdate, add func(channel.Inbound)) {
	was, is := u.OldChatMember.in(), u.NewChatMember.in()
	if was == is {
		return // the bot was promoted or restricted, still in the chat
	}
	in := memberEvent(u)
	switch {
	case in.Private && is:
		in.Kind = channel.InboundFollow
	case in.Private:
		in.Kind = channel.InboundUnfollow
	case is:
		in.Kind = channel.InboundBotAdded
	default:
		in.Kind = channel.InboundBotRemoved
	}
	add(in)
}

func memberEvent(u *memberUpdate) channel.Inbound {
	return channel.Inbound{
		Chat:      strconv.FormatInt(u.Chat.ID, 10),
		Private:   u.Chat.Type == "private",
		ChatTitle: u.Chat.Title,
		User:      toUser(u.From),
		At:        unix(u.Date),
	}
}

// isStart tells whether text is the /start command ("/start",
// "/start payload", "/start@SomeBot").
func isStart(text string) bool {
	f := strings.Fields(text)
	if len(f) == 0 {
		return false
	}
	cmd, _, _ := strings.Cut(f[0], "@")
	return cmd == "/start"
}

func toUser(u user) channel.User {
	return channel.User{
		ID:       strconv.FormatInt(u.ID, 10),
		Name:     strings.TrimSpace(u.FirstName + " " + u.LastName),
		Username: u.Username,
		IsBot:    u.IsBot,
	}
}

func unix(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
