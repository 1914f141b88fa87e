package app

import "github.com/liveloop/liveloop/internal/channel/account"

// factories returns the adapter constructors per platform kind.
func factories(a *App) map[string]account.Factory { return map[string]account.Factory{} }
