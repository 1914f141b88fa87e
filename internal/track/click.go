package track

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Visit is who followed a link, as far as the request tells.
type Visit struct {
	MemberID int64     // the member cookie of the link's tenant (0: none)
	Visitor  string    // VisitorHash of the first-party visitor cookie ("" when none)
	At       time.Time // zero: now
}

// Who is the member a click on l counts for: the link's recipient when it
// was sent privately, else the member the request names, else 0.
func Who(l Link, v Visit) int64 {
	if l.MemberID != 0 {
		return l.MemberID
	}
	return v.MemberID
}

// ClickSourceID is the event source id of a click: one per link, visitor
// (or member) and minute, so a burst of reloads is one click.
func ClickSourceID(linkID int64, who string, at time.Time) string {
	return fmt.Sprintf("click:%d:%s:%d", linkID, who, at.Unix()/60)
}

// Click records a click on l: a link_clicked event and a link_clicks row,
// in one transaction. It reports false when the same visitor clicked the
// link within the same minute (nothing is stored then), or when the
// request names nobody at all.
func (s *Service) Click(ctx context.Context, l Link, v Visit) (bool, error) {
	if v.At.IsZero() {
		v.At = s.now()
	}
	member := Who(l, v)
	who := v.Visitor
	if member != 0 {
		who = fmt.Sprintf("m%d", member)
	}
	if who == "" {
		return false, nil
	}
	var counted bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		counted, err = s.log.AppendTx(ctx, tx, &event.Event{TenantID: l.TenantID, Type: event.LinkClicked, Source: event.SourceTrack,
			SourceID: ClickSourceID(l.ID, who, v.At), At: v.At, MemberID: member, GroupID: l.GroupID, Data: event.MustData(l.Data())})
		if err != nil || !counted {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO link_clicks (tenant_id, link_id, member_id, visitor, at) VALUES ($1, $2, $3, $4, $5)`,
			l.TenantID, l.ID, nullID(member), v.Visitor, store.Millis(v.At))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("track: click on link %d: %w", l.ID, err)
	}
	return counted, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// VisitorHash is the stored form of a visitor cookie: an HMAC under the
// server's key, per tenant, so the rows of two brands cannot be matched
// and the cookie itself is never stored.
func VisitorHash(key []byte, tenantID int64, cookie string) string {
	if cookie == "" {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "visitor:%d:%s", tenantID, cookie)
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// previewAgents are the user agents of the link-preview fetchers of the
// platforms liveloop posts to: they fetch every link posted, so their
// requests are not clicks. (LINE's fetcher calls itself
// facebookexternalhit; LINE's in-app browser, "Line/…", is a person.)
var previewAgents = []string{
	"telegrambot", "whatsapp", "slackbot", "slack-imgproxy", "facebookexternalhit", "facebot", "twitterbot",
	"discordbot", "line-poker", "skypeuripreview", "linkedinbot",
}

// IsPreviewBot reports whether a user agent is a platform's link-preview
// fetcher.
func IsPreviewBot(userAgent string) bool {
	ua := strings.ToLower(userAgent)
	for _, a := range previewAgents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}
