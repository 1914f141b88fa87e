// Package account keeps a tenant's platform accounts — a Telegram bot, a
// LINE channel — with their tokens and secrets encrypted at rest, and
// builds the adapter for each. An account is a channel of its own in the
// registry, named "<kind>/<id>" (a tenant may run several bots), so the
// outbox paces and sends per account.
package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/secretbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kinds of platform accounts.
const (
	Telegram = "telegram"
	LINE     = "line"
)

// Secret fields per kind: what the operator pastes from the platform.
var secretFields = map[string][]string{
	Telegram: {"token"},                          // from @BotFather; the webhook secret is generated
	LINE:     {"channel_secret", "access_token"}, // from the LINE Developers console
}

// Account is one platform account of a tenant. Its secrets are never in
// this struct: Secrets reads them when an adapter is built.
type Account struct {
	ID        int64
	TenantID  int64
	Kind      string
	Name      string
	Hint      string // "…a1b2": the end of the token, to tell accounts apart
	HookKey   string // the unguessable last part of the webhook URL
	PersonaID int64
	Mode      string // "webhook" or "polling"
	Status    string // the last connection check's result
	LastError string
	CreatedAt time.Time
}

// Channel is the account's name in the channel registry.
func (a Account) Channel() string { return ChannelName(a.Kind, a.ID) }

// ChannelName is "<kind>/<id>".
func ChannelName(kind string, id int64) string { return kind + "/" + strconv.FormatInt(id, 10) }

// Known reports whether kind is a platform liveloop has accounts for.
func Known(kind string) bool { return secretFields[kind] != nil }

// ParseChannelName reads a name ChannelName made.
func ParseChannelName(name string) (kind string, id int64, ok bool) {
	kind, rest, found := strings.Cut(name, "/")
	if !found || secretFields[kind] == nil {
		return "", 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return kind, id, err == nil && id > 0
}

// Factory builds an adapter from an account and its secrets.
type Factory func(a Account, secrets map[string]string) (channel.Channel, error)

// Errors of the manager.
var (
	ErrNoKey   = errors.New("account: no encryption key configured: set encryption_key (LIVELOOP_ENCRYPTION_KEY) to store channel secrets")
	ErrInvalid = fmt.Errorf("%w: channel account", store.ErrInvalid)
)

// Manager stores accounts and keeps their adapters.
type Manager struct {
	db        *store.DB
	box       *secretbox.Box // nil: secrets cannot be stored or read
	factories map[string]Factory
	log       *slog.Logger

	mu   sync.Mutex
	live map[int64]liveAdapter
}

// NewManager returns a manager; box may be nil (no key configured).
func NewManager(db *store.DB, box *secretbox.Box, factories map[string]Factory, log *slog.Logger) *Manager {
	return &Manager{db: db, box: box, factories: factories, log: log, live: map[int64]liveAdapter{}}
}

func aad(tenantID int64, kind, hookKey string) string {
	return fmt.Sprintf("channel_account:%d:%s:%s", tenantID, kind, hookKey)
}

// newHookKey is 160 random bits, base32: the webhook URL's secret part.
func newHookKey() string {
	b := make([]byte, 20)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Create validates and stores an account. The adapter is built once here,
// so a malformed token is refused now, with the adapter's reason.
func (m *Manager) Create(ctx context.Context, a Account, secrets map[string]string) (Account, error) {
	if m.box == nil {
		return a, ErrNoKey
	}
	fields, ok := secretFields[a.Kind]
	if !ok || m.factories[a.Kind] == nil {
		return a, fmt.Errorf("%w: unknown kind %q", ErrInvalid, a.Kind)
	}
	a.Name = textnorm.Line(a.Name)
	if a.Name == "" || !textnorm.Limit(a.Name, 60) {
		return a, fmt.Errorf("%w: the name has 1–60 characters", ErrInvalid)
	}
	clean := map[string]string{}
	for _, f := range fields {
		v := strings.TrimSpace(secrets[f])
		if v == "" {
			return a, fmt.Errorf("%w: %s is required", ErrInvalid, f)
		}
		clean[f] = v
	}
	if a.Kind == Telegram {
		// The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token.
		clean["webhook_secret"] = newHookKey()
	}
	if a.Mode == "" {
		a.Mode = "webhook"
	}
	if a.Mode != "webhook" && a.Mode != "polling" {
		return a, fmt.Errorf("%w: mode is webhook or polling", ErrInvalid)
	}
	a.HookKey = newHookKey()
	a.Hint = hint(clean[fields[len(fields)-1]])
	if _, err := m.factories[a.Kind](a, clean); err != nil {
		return a, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	raw, _ := json.Marshal(clean)
	sealed := m.box.Seal(raw, aad(a.TenantID, a.Kind, a.HookKey))
	a.CreatedAt = time.Now().UTC()
	err := m.db.W.QueryRowContext(ctx, `INSERT INTO channel_accounts (tenant_id, kind, name, secrets, hint, hook_key, persona_id, mode, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		a.TenantID, a.Kind, a.Name, sealed, a.Hint, a.HookKey, a.PersonaID, a.Mode, store.Millis(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return a, fmt.Errorf("account: create: %w", err)
	}
	return a, nil
}

// hint shows the last four characters of a secret, never more.
func hint(s string) string {
	if len(s) < 12 {
		return "…"
	}
	return "…" + s[len(s)-4:]
}

const cols = `id, tenant_id, kind, name, hint, hook_key, persona_id, mode, status, last_error, created_at`

func scan(r interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created int64
	err := r.Scan(&a.ID, &a.TenantID, &a.Kind, &a.Name, &a.Hint, &a.HookKey, &a.PersonaID, &a.Mode, &a.Status, &a.LastError, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	a.CreatedAt = store.Time(created)
	return a, err
}

// List returns the tenant's accounts.
func (m *Manager) List(ctx context.Context, tenantID int64) ([]Account, error) {
	rows, err := m.db.R.QueryContext(ctx, `SELECT `+cols+` FROM channel_accounts WHERE tenant_id = $1 AND deleted_at = 0 ORDER BY id`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scan)
}

// Get returns one account of the tenant.
func (m *Manager) Get(ctx context.Context, tenantID, id int64) (Account, error) {
	return scan(m.db.R.QueryRowContext(ctx, `SELECT `+cols+` FROM channel_accounts WHERE tenant_id = $1 AND id = $2 AND deleted_at = 0`, tenantID, id))
}

// ByHook finds the account a webhook URL names: the kind and the hook key
// (the key identifies the tenant; it is compared by the database's index,
// and is 160 random bits, so guessing is not a way in).
func (m *Manager) ByHook(ctx context.Context, kind, key string) (Account, error) {
	if len(key) != 32 {
		return Account{}, store.ErrNotFound
	}
	return scan(m.db.R.QueryRowContext(ctx, `SELECT `+cols+` FROM channel_accounts WHERE hook_key = $1 AND kind = $2 AND deleted_at = 0`, key, kind))
}

// byID is for the registry, where a channel name carries no tenant.
func (m *Manager) byID(ctx context.Context, id int64) (Account, error) {
	return scan(m.db.R.QueryRowContext(ctx, `SELECT `+cols+` FROM channel_accounts WHERE id = $1 AND deleted_at = 0`, id))
}

// Delete retires an account: its adapter stops, its groups stay (with
// their history) but nothing more is sent through it.
func (m *Manager) Delete(ctx context.Context, tenantID, id int64) error {
	res, err := m.db.W.ExecContext(ctx, `UPDATE channel_accounts SET deleted_at = $3 WHERE tenant_id = $1 AND id = $2 AND deleted_at = 0`,
		tenantID, id, store.Millis(time.Now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	m.mu.Lock()
	delete(m.live, id)
	m.mu.Unlock()
	return nil
}

// SetStatus records the result of a connection check or of the poller.
func (m *Manager) SetStatus(ctx context.Context, id int64, status, lastErr string) error {
	_, err := m.db.W.ExecContext(ctx, `UPDATE channel_accounts SET status = $2, last_error = $3 WHERE id = $1`, id, status, textnorm.Line(lastErr))
	return err
}

// Secrets opens an account's secrets (for building its adapter).
func (m *Manager) Secrets(ctx context.Context, a Account) (map[string]string, error) {
	if m.box == nil {
		return nil, ErrNoKey
	}
	var sealed string
	if err := m.db.R.QueryRowContext(ctx, `SELECT secrets FROM channel_accounts WHERE id = $1 AND tenant_id = $2`, a.ID, a.TenantID).Scan(&sealed); err != nil {
		return nil, err
	}
	raw, err := m.box.Open(sealed, aad(a.TenantID, a.Kind, a.HookKey))
	if err != nil {
		return nil, fmt.Errorf("account %d: %w", a.ID, err)
	}
	out := map[string]string{}
	return out, json.Unmarshal(raw, &out)
}

// liveAdapter is a built adapter and when its account was last seen in the
// database (Lookup re-reads it after lookupTTL, so an account deleted on
// another node stops sending within that time).
type liveAdapter struct {
	ch      channel.Channel
	checked time.Time
}

const lookupTTL = time.Minute

// Adapter returns the account's adapter, built once and kept.
func (m *Manager) Adapter(ctx context.Context, a Account) (channel.Channel, error) {
	m.mu.Lock()
	la, ok := m.live[a.ID]
	m.mu.Unlock()
	if ok {
		return la.ch, nil
	}
	f := m.factories[a.Kind]
	if f == nil {
		return nil, fmt.Errorf("account %d: no adapter for %q", a.ID, a.Kind)
	}
	secrets, err := m.Secrets(ctx, a)
	if err != nil {
		return nil, err
	}
	inner, err := f(a, secrets)
	if err != nil {
		return nil, err
	}
	ch := named{Channel: inner, name: a.Channel()}
	m.mu.Lock()
	m.live[a.ID] = liveAdapter{ch: ch, checked: time.Now()}
	m.mu.Unlock()
	return ch, nil
}

// Lookup resolves a registry name "<kind>/<id>" to the account's adapter
// (the registry's fallback for channels that are not built in).
func (m *Manager) Lookup(name string) (channel.Channel, bool) {
	_, id, ok := ParseChannelName(name)
	if !ok {
		return nil, false
	}
	// The outbox asks for every send: answer from the built adapters
	// without a query while the account was seen recently.
	m.mu.Lock()
	la, ok := m.live[id]
	m.mu.Unlock()
	if ok && time.Since(la.checked) < lookupTTL {
		return la.ch, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := m.byID(ctx, id)
	if err != nil {
		m.mu.Lock()
		delete(m.live, id) // deleted (maybe on another node)
		m.mu.Unlock()
		return nil, false
	}
	if ok {
		m.mu.Lock()
		m.live[id] = liveAdapter{ch: la.ch, checked: time.Now()}
		m.mu.Unlock()
		return la.ch, true
	}
	ch, err := m.Adapter(ctx, a)
	if err != nil {
		m.log.Warn("account: adapter unavailable", "account", id, "err", err)
		return nil, false
	}
	return ch, true
}

// named gives an adapter its account's registry name, so pacing and the
// outbox's records are per account.
type named struct {
	channel.Channel
	name string
}

func (n named) Name() string { return n.name }

// Inner returns the platform adapter under the account's name.
func (n named) Inner() channel.Channel { return n.Channel }

// Unwrap returns the platform adapter behind a channel the manager built.
func Unwrap(ch channel.Channel) channel.Channel {
	if n, ok := ch.(named); ok {
		return n.Channel
	}
	return ch
}

// Checker is implemented by adapters that can tell whether their account
// works (Telegram's getMe, LINE's quota): the console's "check" button.
type Checker interface {
	Check(ctx context.Context) (string, error)
}

// WebhookSetter is implemented by adapters whose platform is told the
// webhook URL by API (Telegram's setWebhook); LINE's is set in its console.
type WebhookSetter interface {
	SetWebhookURL(ctx context.Context, url string) error
}

// HookPath is the path of an account's webhook on this liveloop.
func (a Account) HookPath() string { return "/hooks/" + a.Kind + "/" + a.HookKey }

// Moderator is implemented by adapters that can mute and remove members
// on the platform (Telegram: restrictChatMember, banChatMember).
type Moderator interface {
	Restrict(ctx context.Context, chat, user string, until time.Time) error
	Unrestrict(ctx context.Context, chat, user string) error
	Remove(ctx context.Context, chat, user string) error
}

// Profiler is implemented by adapters whose webhooks carry no display
// names (LINE): liveloop asks for the name of a user it sees first.
type Profiler interface {
	Profile(ctx context.Context, chat, user string) (channel.User, error)
}

// GroupNamer is implemented by adapters whose webhooks carry no group
// names (LINE): liveloop asks for a new group's name.
type GroupNamer interface {
	GroupSummary(ctx context.Context, groupID string) (string, error)
}

// Poller is implemented by adapters that can fetch updates themselves
// (Telegram's getUpdates), for accounts without a public webhook URL.
type Poller interface {
	Poll(ctx context.Context, offset int64, timeout time.Duration) ([]channel.Inbound, int64, error)
}

// Polling returns every account (of all tenants) that receives by polling.
func (m *Manager) Polling(ctx context.Context) ([]Account, error) {
	rows, err := m.db.R.QueryContext(ctx, `SELECT `+cols+` FROM channel_accounts WHERE mode = 'polling' AND deleted_at = 0 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scan)
}

// Offset is where an account's polling resumes.
func (m *Manager) Offset(ctx context.Context, id int64) (int64, error) {
	var off int64
	err := m.db.R.QueryRowContext(ctx, `SELECT poll_offset FROM channel_accounts WHERE id = $1`, id).Scan(&off)
	return off, err
}

// SetOffset records how far polling got, after the updates before it are
// stored (so a crash repeats updates, which are stored once, rather than
// losing them).
func (m *Manager) SetOffset(ctx context.Context, id, offset int64) error {
	_, err := m.db.W.ExecContext(ctx, `UPDATE channel_accounts SET poll_offset = $2 WHERE id = $1 AND poll_offset < $2`, id, offset)
	return err
}

// CallbackAnswerer is implemented by adapters whose platform waits for
// an answer to a button press (Telegram shows a spinner until then).
type CallbackAnswerer interface {
	AnswerCallback(ctx context.Context, callbackID, text string) error
}

// AnswerButtons acknowledges the button presses of a stored delivery,
// in the background and best effort: the vote is already stored.
func AnswerButtons(ch channel.Channel, evs []channel.Inbound, log *slog.Logger) {
	a, ok := Unwrap(ch).(CallbackAnswerer)
	if !ok {
		return
	}
	for _, ev := range evs {
		if ev.Kind != channel.InboundButton || ev.ReplyToken == "" {
			continue
		}
		go func(id string) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.AnswerCallback(ctx, id, ""); err != nil {
				log.Warn("account: answering a button press", "channel", ch.Name(), "err", err)
			}
		}(ev.ReplyToken)
	}
}
