package app

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/store"
)

const pollersLockKey = 7_270_120

// pollers runs one long-polling loop per account that receives by polling
// (Telegram without a public URL), starting loops for new accounts and
// stopping those of deleted ones. On PostgreSQL one node polls (advisory
// lock): two pollers of one bot would make Telegram answer 409.
func (a *App) pollers(ctx context.Context) error {
	release, err := store.Lead(ctx, a.DB, pollersLockKey, 5*time.Second)
	if err != nil || release == nil {
		return err
	}
	defer release()
	running := map[int64]context.CancelFunc{}
	defer func() {
		for _, stop := range running {
			stop()
		}
	}()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		accs, err := a.Accounts.Polling(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.Error("pollers: accounts", "err", err)
		}
		seen := map[int64]bool{}
		for _, acc := range accs {
			seen[acc.ID] = true
			if running[acc.ID] == nil {
				pctx, stop := context.WithCancel(ctx)
				running[acc.ID] = stop
				go a.poll(pctx, acc)
			}
		}
		for id, stop := range running {
			if !seen[id] {
				stop()
				delete(running, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll fetches and stores one account's updates until ctx ends; errors
// (no network, a revoked token) are recorded on the account and retried
// with a growing pause.
func (a *App) poll(ctx context.Context, acc account.Account) {
	pause := time.Second
	webhookOff := false
	fail := func(err error) {
		a.Logger.Warn("poller: cannot fetch updates", "channel", acc.Channel(), "err", err)
		a.Accounts.SetStatus(context.WithoutCancel(ctx), acc.ID, "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(pause*2, 5*time.Minute)
	}
	for ctx.Err() == nil {
		ch, err := a.Accounts.Adapter(ctx, acc)
		if err != nil {
			fail(err)
			continue
		}
		p, ok := account.Unwrap(ch).(account.Poller)
		if !ok {
			a.Logger.Warn("poller: this platform cannot poll", "channel", acc.Channel())
			return
		}
		// Telegram refuses getUpdates while a webhook is set (409): an
		// account switched to polling has its webhook removed first.
		if d, ok := account.Unwrap(ch).(interface{ DeleteWebhook(context.Context) error }); ok && !webhookOff {
			if err := d.DeleteWebhook(ctx); err != nil {
				fail(err)
				continue
			}
			webhookOff = true
		}
		offset, err := a.Accounts.Offset(ctx, acc.ID)
		if err != nil {
			fail(err)
			continue
		}
		evs, next, err := p.Poll(ctx, offset, 25*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			continue
		}
		if len(evs) > 0 {
			if _, err := a.Ingest.Deliver(ctx, acc, evs); err != nil {
				fail(err)
				continue // the offset stays: the updates come again
			}
			account.AnswerButtons(ch, evs, a.Logger)
		}
		if next > offset {
			if err := a.Accounts.SetOffset(ctx, acc.ID, next); err != nil {
				fail(err)
				continue
			}
		}
		if pause > time.Second {
			a.Accounts.SetStatus(ctx, acc.ID, "polling", "")
		}
		pause = time.Second
	}
}
