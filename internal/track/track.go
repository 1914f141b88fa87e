package track

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kind is what a tracked link was sent in.
type Kind string

// The kinds of links.
const (
	KindAlert   Kind = "alert"   // a live-start alert (and other live posts pointing at the room)
	KindProduct Kind = "product" // a product card, "now live: X"
	KindCoupon  Kind = "coupon"  // a coupon message or drop
	KindStep    Kind = "step"    // a playbook step (content item)
	KindOther   Kind = "other"
)

// Kinds lists the kinds in the order the console shows them.
var Kinds = []Kind{KindAlert, KindProduct, KindCoupon, KindStep, KindOther}

func (k Kind) valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Spec says where a link goes and what it was sent in. Zero ids are
// absent: a live-start alert's link has a LiveID and a GroupID, a private
// playbook message's a ContentID, a StepID and a MemberID.
type Spec struct {
	URL       string // the target: an absolute http(s) link
	Kind      Kind   // "": other
	GroupID   int64  // posted in this group
	MemberID  int64  // sent privately to this member (their clicks are theirs)
	LiveID    int64
	ContentID int64
	StepID    int64
	ProductID int64
	BatchID   int64  // coupon batch
	Ref       string // the message's outbox key: a retried send reuses its links
	// Keep lists links RewriteTx leaves as they are (an image the platform
	// fetches and shows is not a link members click).
	Keep []string
}

// Link is one stored tracked link.
type Link struct {
	ID        int64
	TenantID  int64
	Code      string
	URL       string
	Kind      Kind
	GroupID   int64
	MemberID  int64
	LiveID    int64
	ContentID int64
	StepID    int64
	ProductID int64
	BatchID   int64
	Ref       string
	CreatedAt time.Time
}

// Data is the link's part of its events' data.
func (l Link) Data() event.TrackData {
	return event.TrackData{LinkID: l.ID, Kind: string(l.Kind), LiveID: l.LiveID, ContentID: l.ContentID, StepID: l.StepID,
		ProductID: l.ProductID, BatchID: l.BatchID, Ref: l.Ref}
}

// Service stores tracked links, their clicks and the attribution read
// from them.
type Service struct {
	db   *store.DB
	log  *event.Log
	base string // scheme://host of this liveloop, no trailing slash
	now  func() time.Time
}

// New returns the service; publicURL is where /t/<code> is served.
func New(db *store.DB, log *event.Log, publicURL string) *Service {
	return &Service{db: db, log: log, base: strings.TrimRight(publicURL, "/"), now: time.Now}
}

// SetClock replaces the clock (tests, the demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Path is the path of a tracked link's code.
func Path(code string) string { return "/t/" + code }

// ShortURL is the link members see for code.
func (s *Service) ShortURL(code string) string { return s.base + Path(code) }

// IsTracked reports whether u is already one of this liveloop's tracked
// links (which are never wrapped again).
func (s *Service) IsTracked(u string) bool {
	rest, ok := strings.CutPrefix(u, s.base+"/t/")
	return ok && s.base != "" && validCode(rest)
}

// Target reports whether u may be a link's target: an absolute http(s)
// link with a host, short enough to store and index.
func Target(u string) bool {
	if u == "" || len(u) > textnorm.MaxLinkLength || strings.ContainsAny(u, " \t\r\n") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// Errors of the link functions.
var (
	// ErrTarget: the target is not an absolute http(s) link.
	ErrTarget = fmt.Errorf("track: %w: a tracked link's target must be an http(s) link", store.ErrInvalid)
)

// codeLen is a code's length: 62^8 ≈ 2.2·10^14 codes, so a guessed code
// finds a link with a negligible chance even with millions stored.
const codeLen = 8

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newCode draws a code from crypto/rand, each character uniform (bytes
// 248..255 are drawn again: 248 = 4·62).
func newCode() string {
	b := make([]byte, 0, codeLen)
	buf := make([]byte, 16)
	for len(b) < codeLen {
		rand.Read(buf)
		for _, c := range buf {
			if c < 248 && len(b) < codeLen {
				b = append(b, base62[c%62])
			}
		}
	}
	return string(b)
}

// validCode reports whether s has a code's shape (anything else is not
// looked up).
func validCode(s string) bool {
	if len(s) != codeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// LinkTx returns the tracked short link for spec inside the caller's
// transaction (the one that queues the message carrying it). It is
// idempotent for the same (tenant, Ref, URL): a retried send reuses the
// link. A target that is already a tracked link is returned as it is.
func (s *Service) LinkTx(ctx context.Context, tx *store.Tx, tenantID int64, spec Spec) (string, error) {
	l, err := s.linkTx(ctx, tx, tenantID, spec)
	if err != nil {
		return "", err
	}
	if l.Code == "" {
		return spec.URL, nil
	}
	return s.ShortURL(l.Code), nil
}

// linkTx stores (or finds) spec's link; Code is "" when spec.URL is
// already tracked.
func (s *Service) linkTx(ctx context.Context, tx *store.Tx, tenantID int64, spec Spec) (Link, error) {
	if s.IsTracked(spec.URL) {
		return Link{}, nil
	}
	if !Target(spec.URL) {
		return Link{}, ErrTarget
	}
	if spec.Kind == "" {
		spec.Kind = KindOther
	}
	if !spec.Kind.valid() {
		return Link{}, fmt.Errorf("track: %w: unknown link kind %q", store.ErrInvalid, spec.Kind)
	}
	l := Link{TenantID: tenantID, URL: spec.URL, Kind: spec.Kind, GroupID: spec.GroupID, MemberID: spec.MemberID, LiveID: spec.LiveID,
		ContentID: spec.ContentID, StepID: spec.StepID, ProductID: spec.ProductID, BatchID: spec.BatchID, Ref: spec.Ref,
		CreatedAt: s.now().UTC()}
	for range 3 { // a second try only after a code collision
		l.Code = newCode()
		err := tx.QueryRowContext(ctx, `INSERT INTO links (tenant_id, code, url, kind, group_id, member_id, live_id, content_id, step_id,
				product_id, batch_id, ref, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT DO NOTHING RETURNING id`,
			tenantID, l.Code, l.URL, string(l.Kind), l.GroupID, l.MemberID, l.LiveID, l.ContentID, l.StepID, l.ProductID, l.BatchID,
			l.Ref, store.Millis(l.CreatedAt)).Scan(&l.ID)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Link{}, fmt.Errorf("track: store link: %w", err)
		}
		if spec.Ref == "" {
			continue
		}
		old, err := scanLink(tx.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links WHERE tenant_id = $1 AND ref = $2 AND url = $3`,
			tenantID, spec.Ref, spec.URL))
		if err == nil {
			return old, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Link{}, err
		}
	}
	return Link{}, errors.New("track: no free link code after three draws")
}

const linkCols = `id, tenant_id, code, url, kind, group_id, member_id, live_id, content_id, step_id, product_id, batch_id, ref, created_at`

func scanLink(r interface{ Scan(...any) error }) (Link, error) {
	var l Link
	var kind string
	var created int64
	err := r.Scan(&l.ID, &l.TenantID, &l.Code, &l.URL, &kind, &l.GroupID, &l.MemberID, &l.LiveID, &l.ContentID, &l.StepID,
		&l.ProductID, &l.BatchID, &l.Ref, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, store.ErrNotFound
	}
	if err != nil {
		return Link{}, fmt.Errorf("track: read link: %w", err)
	}
	l.Kind, l.CreatedAt = Kind(kind), store.Time(created)
	return l, nil
}

// Resolve finds the link of a code, whatever its tenant (the code alone
// names it), or store.ErrNotFound.
func (s *Service) Resolve(ctx context.Context, code string) (Link, error) {
	if !validCode(code) {
		return Link{}, store.ErrNotFound
	}
	return scanLink(s.db.R.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links WHERE code = $1`, code))
}

// Get returns one of the tenant's links, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (Link, error) {
	return scanLink(s.db.R.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}
