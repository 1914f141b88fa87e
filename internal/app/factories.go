package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/line"
	"github.com/liveloop/liveloop/internal/channel/telegram"
)

// factories returns the adapter constructors per platform kind. Each
// adapter gets its own HTTP client with a timeout (the SDKs' defaults have
// none) and the configured API base (a local test double in tests).
func factories(a *App) map[string]account.Factory {
	client := func() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
	return map[string]account.Factory{
		account.Telegram: func(acc account.Account, s map[string]string) (channel.Channel, error) {
			ch, err := telegram.New(telegram.Config{Token: s["token"], WebhookSecret: s["webhook_secret"], APIURL: a.Cfg.TelegramAPIURL,
				HTTPClient: client(), Logger: a.Logger.With("channel", acc.Channel())})
			if err != nil {
				return nil, err
			}
			return telegramAccount{Channel: ch, secret: s["webhook_secret"]}, nil
		},
		account.LINE: func(acc account.Account, s map[string]string) (channel.Channel, error) {
			ch, err := line.New(line.Config{ChannelSecret: s["channel_secret"], AccessToken: s["access_token"], APIURL: a.Cfg.LINEAPIURL,
				HTTPClient: client(), Logger: a.Logger.With("channel", acc.Channel())})
			if err != nil {
				return nil, err
			}
			return lineAccount{Channel: ch}, nil
		},
	}
}

// telegramAccount adds the console's checks to the Telegram adapter.
type telegramAccount struct {
	*telegram.Channel
	secret string
}

func (t telegramAccount) Check(ctx context.Context) (string, error) {
	u, err := t.GetMe(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot connect to Telegram: %w", err)
	}
	return "ok: @" + u.Username, nil
}

func (t telegramAccount) SetWebhookURL(ctx context.Context, url string) error {
	return t.SetWebhook(ctx, url, t.secret)
}

// lineAccount adds the console's checks (and the month's quota) to LINE.
type lineAccount struct{ *line.Channel }

func (l lineAccount) Check(ctx context.Context) (string, error) {
	q, err := l.Quota(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot connect to LINE: %w", err)
	}
	if q.Type == "none" || q.Limit <= 0 {
		return fmt.Sprintf("ok: %d push messages this month (no monthly limit)", q.Used), nil
	}
	return fmt.Sprintf("ok: %d of %d push messages used this month", q.Used, q.Limit), nil
}
