package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot"

	"github.com/liveloop/liveloop/internal/channel"
)

// permissions is ChatPermissions with every field sent. The SDK's
// models.ChatPermissions omits can_send_messages when false, so a mute
// through it would rely on Telegram reading "absent" as "denied";
// restrictChatMember goes through call instead.
type permissions struct {
	CanSendMessages       bool `json:"can_send_messages"`
	CanSendAudios         bool `json:"can_send_audios"`
	CanSendDocuments      bool `json:"can_send_documents"`
	CanSendPhotos         bool `json:"can_send_photos"`
	CanSendVideos         bool `json:"can_send_videos"`
	CanSendVideoNotes     bool `json:"can_send_video_notes"`
	CanSendVoiceNotes     bool `json:"can_send_voice_notes"`
	CanSendPolls          bool `json:"can_send_polls"`
	CanSendOtherMessages  bool `json:"can_send_other_messages"`
	CanAddWebPagePreviews bool `json:"can_add_web_page_previews"`
}

type restrictChatMember struct {
	ChatID      int64       `json:"chat_id"`
	UserID      int64       `json:"user_id"`
	Permissions permissions `json:"permissions"`
	// UseIndependentChatPermissions false: can_send_messages=false then
	// also denies media, polls and the rest.
	UseIndependentChatPermissions bool  `json:"use_independent_chat_permissions"`
	UntilDate                     int64 `json:"until_date,omitempty"`
}

// Restrict mutes user in chat until the given time (zero: until lifted).
// Telegram treats a time under 30 seconds or over 366 days away as
// forever. Muting exists only in supergroups: in a basic group the error
// wraps ErrNeedsSupergroup. The bot must be an admin allowed to restrict.
func (c *Channel) Restrict(ctx context.Context, chat, user string, until time.Time) error {
	req, err := restrictRequest(chat, user)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		req.UntilDate = until.Unix()
	}
	return c.restrict(ctx, req)
}

// Unrestrict lifts a mute: Telegram's documented way is to grant every
// permission, after which the member follows the group's defaults again.
func (c *Channel) Unrestrict(ctx context.Context, chat, user string) error {
	req, err := restrictRequest(chat, user)
	if err != nil {
		return err
	}
	req.Permissions = permissions{true, true, true, true, true, true, true, true, true, true}
	return c.restrict(ctx, req)
}

func restrictRequest(chat, user string) (*restrictChatMember, error) {
	chatID, err := parseID(chat)
	if err != nil {
		return nil, fmt.Errorf("telegram: restrict: chat: %w: %w", err, channel.ErrPermanent)
	}
	userID, err := parseID(user)
	if err != nil || userID < 0 {
		return nil, fmt.Errorf("telegram: restrict: %q is not a user id: %w", user, channel.ErrPermanent)
	}
	return &restrictChatMember{ChatID: chatID, UserID: userID}, nil
}

func (c *Channel) restrict(ctx context.Context, req *restrictChatMember) error {
	err := c.call(ctx, "restrictChatMember", req, nil)
	var ae *APIError
	if errors.As(err, &ae) && strings.Contains(strings.ToLower(ae.Description), "only for supergroup") {
		// "method is available only for supergroups"
		return fmt.Errorf("%w: %w: %w", ae, ErrNeedsSupergroup, channel.ErrPermanent)
	}
	if err != nil {
		return classify(err, false)
	}
	return nil
}

// Remove takes user out of chat: banChatMember, then unbanChatMember with
// only_if_banned so that the member can join again later by link —
// liveloop keeps its own ban list and decides who may come back.
func (c *Channel) Remove(ctx context.Context, chat, user string) error {
	chatID, err := parseID(chat)
	if err != nil {
		return fmt.Errorf("telegram: remove: chat: %w: %w", err, channel.ErrPermanent)
	}
	userID, err := parseID(user)
	if err != nil || userID < 0 {
		return fmt.Errorf("telegram: remove: %q is not a user id: %w", user, channel.ErrPermanent)
	}
	if _, err := c.sdk.BanChatMember(ctx, &bot.BanChatMemberParams{ChatID: chatID, UserID: userID}); err != nil {
		return c.sdkError("banChatMember", err)
	}
	_, err = c.sdk.UnbanChatMember(ctx, &bot.UnbanChatMemberParams{ChatID: chatID, UserID: userID, OnlyIfBanned: true})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "supergroup and channel") {
		// unbanChatMember is documented for supergroups and channels only;
		// in a basic group the removal stands and an admin can add the
		// member back.
		return nil
	}
	if err != nil {
		// The member is out but still banned on Telegram; say so, a retry
		// of Remove repeats both calls harmlessly.
		return fmt.Errorf("telegram: remove: member removed but still banned: %w", c.sdkError("unbanChatMember", err))
	}
	return nil
}
