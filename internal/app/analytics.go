package app

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/outbox"
)

// rollupInterval is how often the analytics rollup catches up with the
// log: dashboards are at most this far behind.
const rollupInterval = 5 * time.Second

// runRollup keeps the analytics rollup caught up until ctx ends.
func (a *App) runRollup(ctx context.Context) error {
	return a.Rollup.Run(ctx, rollupInterval)
}

// recordPlatformPost records a group message the outbox delivered to a
// platform group (Telegram, LINE) as a message event, as the web
// community does for its own groups (under the same outbox key, so it is
// stored once): the brand's side of every group's conversation is in the
// log, which the community-health numbers (the brand's share of the talk)
// read. The runner ignores outbox messages, so no rule answers it.
func (a *App) recordPlatformPost(it outbox.Item) {
	if it.GroupID == 0 || it.Channel == webchat.Name {
		return
	}
	e := event.Event{TenantID: it.TenantID, Type: event.Message, Source: event.SourceOutbox, SourceID: it.IdemKey,
		GroupID: it.GroupID, StaffID: it.StaffID,
		Data: event.MustData(event.MessageData{Text: it.Body, SenderName: it.SenderName, PersonaID: it.PersonaID})}
	if _, err := a.Log.Append(context.Background(), &e); err != nil {
		a.Logger.Warn("analytics: record a platform post", "outbox", it.ID, "err", err)
	}
}
