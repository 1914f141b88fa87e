package line

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/liveloop/liveloop/internal/channel"
)

// Quota is the month's push quota as the console shows it. Pushes count
// (one per recipient who receives it); replies are free.
type Quota struct {
	Type  string // "limited" or "none" (no monthly cap)
	Limit int64  // the month's cap; meaningful only when Type is "limited"
	Used  int64  // messages counted this month
}

// Quota reads the monthly limit (GET /v2/bot/message/quota) and this
// month's consumption (GET /v2/bot/message/quota/consumption).
func (c *Channel) Quota(ctx context.Context) (Quota, error) {
	api, cancel, err := c.api(ctx)
	if err != nil {
		return Quota{}, err
	}
	defer cancel()
	res, q, err := api.GetMessageQuotaWithHttpInfo()
	if err := check("quota", res, err); err != nil {
		return Quota{}, err
	}
	res, used, err := api.GetMessageQuotaConsumptionWithHttpInfo()
	if err := check("quota consumption", res, err); err != nil {
		return Quota{}, err
	}
	return Quota{Type: string(q.Type), Limit: q.Value, Used: used.TotalUsage}, nil
}

// Profile returns a member's display name: LINE webhooks carry user ids
// only. chat is the group ("C…") or room ("R…") the member is in, or the
// user id itself for a 1:1 chat (which needs the user to have added the
// bot as a friend).
func (c *Channel) Profile(ctx context.Context, chat, user string) (channel.User, error) {
	if !validID(chat) || !validID(user) {
		return channel.User{}, fmt.Errorf("%w: line: profile: not a LINE id", channel.ErrPermanent)
	}
	api, cancel, err := c.api(ctx)
	if err != nil {
		return channel.User{}, err
	}
	defer cancel()
	var name string
	switch {
	case strings.HasPrefix(chat, "C"):
		res, p, err := api.GetGroupMemberProfileWithHttpInfo(chat, user)
		if err := check("group member profile", res, err); err != nil {
			return channel.User{}, err
		}
		name = p.DisplayName
	case strings.HasPrefix(chat, "R"):
		res, p, err := api.GetRoomMemberProfileWithHttpInfo(chat, user)
		if err := check("room member profile", res, err); err != nil {
			return channel.User{}, err
		}
		name = p.DisplayName
	default:
		res, p, err := api.GetProfileWithHttpInfo(user)
		if err := check("profile", res, err); err != nil {
			return channel.User{}, err
		}
		name = p.DisplayName
	}
	return channel.User{ID: user, Name: name}, nil
}

// GroupSummary returns the group's name (GET /v2/bot/group/{id}/summary),
// which webhooks do not carry.
func (c *Channel) GroupSummary(ctx context.Context, groupID string) (string, error) {
	if !validID(groupID) {
		return "", fmt.Errorf("%w: line: group summary: not a LINE id", channel.ErrPermanent)
	}
	api, cancel, err := c.api(ctx)
	if err != nil {
		return "", err
	}
	defer cancel()
	res, g, err := api.GetGroupSummaryWithHttpInfo(groupID)
	if err := check("group summary", res, err); err != nil {
		return "", err
	}
	return g.GroupName, nil
}

// idPattern admits LINE ids (U/C/R and 32 hex digits) and nothing that
// could change the request path the SDK builds from them.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validID(s string) bool { return idPattern.MatchString(s) }

// check turns a read call's outcome into an error: transport failures as
// they are (retryable), refusals mapped like sends (404: unreachable).
func check(op string, res *http.Response, err error) error {
	switch {
	case res == nil && err != nil:
		return fmt.Errorf("line: %s: %w", op, err)
	case res == nil:
		return nil
	case res.StatusCode/100 == 2 && err != nil:
		return fmt.Errorf("line: %s: %w", op, err) // undecodable answer
	case res.StatusCode/100 == 2:
		return nil
	}
	e := apiError(op, res)
	if res.StatusCode >= 500 {
		return e
	}
	return classify(e)
}
