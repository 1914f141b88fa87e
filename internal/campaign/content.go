package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Type is what a content item is for. The 7:3 value-to-sales mix and the
// frequency caps count the sales types.
type Type string

const (
	TypeKnowledge   Type = "knowledge" // 干货
	TypeLifestyle   Type = "lifestyle"
	TypePromo       Type = "promo"
	TypeLivePreview Type = "live_preview"
	TypeFlashSale   Type = "flash_sale"
	TypeRecap       Type = "recap"
	TypeActivity    Type = "activity"
)

// Types lists every content type, value types first.
var Types = []Type{TypeKnowledge, TypeLifestyle, TypeRecap, TypeActivity, TypePromo, TypeLivePreview, TypeFlashSale}

// Sales reports whether t is sales content (promo, live preview, flash
// sale), which the caps and the mix count.
func (t Type) Sales() bool { return t == TypePromo || t == TypeLivePreview || t == TypeFlashSale }

// Format is how a content item is shown.
type Format string

const (
	FormatText        Format = "text"
	FormatImage       Format = "image"
	FormatVideo       Format = "video"
	FormatLink        Format = "link"
	FormatProductCard Format = "product_card"
)

// Formats lists every format.
var Formats = []Format{FormatText, FormatImage, FormatVideo, FormatLink, FormatProductCard}

// Limits of a content item.
const (
	MaxTitleRunes   = 100
	MaxTextRunes    = 2000
	MaxTags         = 20
	MaxTagRunes     = 30
	MaxURLLength    = textnorm.MaxLinkLength
	MaxContentsList = 500
)

// Content is one item of the library: the text in each locale (with
// placeholders), and what goes with it.
type Content struct {
	ID         int64
	TenantID   int64
	Title      string // for the operator; shown on product cards
	Type       Type
	Format     Format
	Tags       []string
	PersonaID  int64             // who speaks (0: the brand)
	Variants   map[string]string // locale (zh-CN, zh-TW, en) → text
	MediaURL   string            // image or video
	LinkURL    string            // the link of a link or product card (the tracked link, when given, replaces it)
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt time.Time // zero while in use
}

// Errors of the package. ErrInvalid wraps store.ErrInvalid, so the web
// layer maps it without knowing this package; the text after the last
// ": " says what to fix.
var (
	ErrInvalid = fmt.Errorf("campaign: %w", store.ErrInvalid)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ValidateContent normalises c as an operator typed it and checks it;
// errors wrap ErrInvalid and name what to fix.
func ValidateContent(c *Content) error {
	c.Title = textnorm.Line(c.Title)
	c.MediaURL, c.LinkURL = strings.TrimSpace(c.MediaURL), strings.TrimSpace(c.LinkURL)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case c.Title == "":
		bad("title is empty")
	case !textnorm.Limit(c.Title, MaxTitleRunes):
		bad("title is longer than %d characters", MaxTitleRunes)
	}
	if !slices.Contains(Types, c.Type) {
		bad("type %q is not one of %v", c.Type, Types)
	}
	if !slices.Contains(Formats, c.Format) {
		bad("format %q is not one of %v", c.Format, Formats)
	}
	problems = append(problems, variantProblems(c)...)
	problems = append(problems, tagProblems(c)...)
	for _, u := range []struct{ what, url string }{{"media URL", c.MediaURL}, {"link URL", c.LinkURL}} {
		if msg := textnorm.LinkProblem(u.url); msg != "" {
			bad("%s %s", u.what, msg)
		}
	}
	switch {
	case (c.Format == FormatImage || c.Format == FormatVideo) && c.MediaURL == "":
		bad("the %s needs its media URL", c.Format)
	case c.Format == FormatLink && c.LinkURL == "":
		bad("a link needs its link URL")
	}
	if c.PersonaID < 0 {
		bad("persona is not valid")
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	return nil
}

func variantProblems(c *Content) []string {
	var out []string
	clean := map[string]string{}
	for l, text := range c.Variants {
		cl := CanonicalLocale(l)
		text = strings.TrimSpace(textnorm.Clean(text))
		switch {
		case cl == "":
			out = append(out, fmt.Sprintf("locale %q is not one of %v", l, Locales))
			continue
		case text == "":
			continue
		case !textnorm.Limit(text, MaxTextRunes):
			out = append(out, fmt.Sprintf("the %s text is longer than %d characters", cl, MaxTextRunes))
		}
		if err := ValidateText(text); err != nil {
			out = append(out, fmt.Sprintf("the %s text: %s", cl, lastPart(err)))
		}
		clean[cl] = text
	}
	if len(clean) == 0 && len(out) == 0 {
		out = append(out, "write the text in at least one language")
	}
	c.Variants = clean
	return out
}

func tagProblems(c *Content) []string {
	var tags []string
	for _, t := range c.Tags {
		if t = textnorm.Line(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	c.Tags = tags
	var out []string
	if len(tags) > MaxTags {
		out = append(out, fmt.Sprintf("at most %d tags", MaxTags))
	}
	for _, t := range tags {
		if !textnorm.Limit(t, MaxTagRunes) {
			out = append(out, fmt.Sprintf("tag %q is longer than %d characters", t, MaxTagRunes))
		}
	}
	return out
}

// lastPart is the operator-facing part of an ErrInvalid message.
func lastPart(err error) string {
	s := err.Error()
	if i := strings.Index(s, "invalid: "); i >= 0 {
		return s[i+len("invalid: "):]
	}
	return s
}

// CreateContent stores a new item of the tenant's library.
func (s *Service) CreateContent(ctx context.Context, c Content) (Content, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = s.CreateContentTx(ctx, tx, c)
		return err
	})
	return c, err
}

// CreateContentTx is CreateContent inside tx.
func (s *Service) CreateContentTx(ctx context.Context, tx *store.Tx, c Content) (Content, error) {
	if err := ValidateContent(&c); err != nil {
		return c, err
	}
	if err := personaOwned(ctx, tx, c.TenantID, c.PersonaID); err != nil {
		return c, err
	}
	now := s.now().UTC()
	c.CreatedAt, c.UpdatedAt, c.ArchivedAt = now, now, time.Time{}
	variants, _ := json.Marshal(c.Variants)
	if err := tx.QueryRowContext(ctx, `INSERT INTO campaign_content (tenant_id, title, type, format, persona_id, variants,
		media_url, link_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
		c.TenantID, c.Title, string(c.Type), string(c.Format), c.PersonaID, string(variants), c.MediaURL, c.LinkURL,
		store.Millis(now)).Scan(&c.ID); err != nil {
		return c, fmt.Errorf("campaign: create content: %w", err)
	}
	return c, writeTags(ctx, tx, c)
}

// UpdateContent changes an item of the tenant's library (not archived
// ones); another tenant's id is ErrNotFound. Jobs already scheduled send
// the item as it is when they run.
func (s *Service) UpdateContent(ctx context.Context, c Content) error {
	if err := ValidateContent(&c); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := personaOwned(ctx, tx, c.TenantID, c.PersonaID); err != nil {
			return err
		}
		variants, _ := json.Marshal(c.Variants)
		res, err := tx.ExecContext(ctx, `UPDATE campaign_content SET title = $3, type = $4, format = $5, persona_id = $6,
			variants = $7, media_url = $8, link_url = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2 AND archived_at = 0`,
			c.TenantID, c.ID, c.Title, string(c.Type), string(c.Format), c.PersonaID, string(variants), c.MediaURL, c.LinkURL,
			store.Millis(s.now()))
		if err := one(res, err); err != nil {
			return err
		}
		// The calendar's mix shows the type of what is still to be sent.
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_jobs SET content_type = $3 WHERE tenant_id = $1 AND content_id = $2
			AND state IN ('pending', 'running')`, c.TenantID, c.ID, string(c.Type)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_content_tags WHERE tenant_id = $1 AND content_id = $2`, c.TenantID, c.ID); err != nil {
			return err
		}
		return writeTags(ctx, tx, c)
	})
}

func writeTags(ctx context.Context, tx *store.Tx, c Content) error {
	for _, t := range c.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_content_tags (tenant_id, content_id, tag) VALUES ($1, $2, $3)`,
			c.TenantID, c.ID, t); err != nil {
			return fmt.Errorf("campaign: content tag: %w", err)
		}
	}
	return nil
}

// one turns an UPDATE that touched no row into ErrNotFound.
func one(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func personaOwned(ctx context.Context, q store.Querier, tenantID, personaID int64) error {
	if personaID == 0 {
		return nil
	}
	ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM personas WHERE tenant_id = $1 AND id = $2`, tenantID, personaID)
	if err != nil || !ok {
		return orInvalid(err, "persona %d is not one of yours", personaID)
	}
	return nil
}

// orInvalid returns err, or an ErrInvalid with the message when err is nil.
func orInvalid(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return invalid(format, args...)
}

// ArchiveContent takes an item out of the library: it is no longer listed
// or offered, and jobs that would send it are skipped with the reason.
func (s *Service) ArchiveContent(ctx context.Context, tenantID, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE campaign_content SET archived_at = $3 WHERE tenant_id = $1 AND id = $2 AND archived_at = 0`,
		tenantID, id, store.Millis(s.now()))
	return one(res, err)
}

const contentCols = `id, tenant_id, title, type, format, persona_id, variants, media_url, link_url, created_at, updated_at, archived_at`

func scanContent(r interface{ Scan(...any) error }) (Content, error) {
	var c Content
	var typ, format, variants string
	var created, updated, archived int64
	err := r.Scan(&c.ID, &c.TenantID, &c.Title, &typ, &format, &c.PersonaID, &variants, &c.MediaURL, &c.LinkURL, &created, &updated, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Type, c.Format = Type(typ), Format(format)
	c.CreatedAt, c.UpdatedAt, c.ArchivedAt = store.Time(created), store.Time(updated), store.Time(archived)
	if err := json.Unmarshal([]byte(variants), &c.Variants); err != nil {
		return c, fmt.Errorf("campaign: content %d: variants: %w", c.ID, err)
	}
	return c, nil
}

// GetContent returns one item of the tenant's library, archived or not.
func (s *Service) GetContent(ctx context.Context, tenantID, id int64) (Content, error) {
	return getContent(ctx, s.db.R, tenantID, id)
}

func getContent(ctx context.Context, q store.Querier, tenantID, id int64) (Content, error) {
	c, err := scanContent(q.QueryRowContext(ctx, `SELECT `+contentCols+` FROM campaign_content WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return c, err
	}
	c.Tags, err = contentTags(ctx, q, tenantID, id)
	return c, err
}

func contentTags(ctx context.Context, q store.Querier, tenantID, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM campaign_content_tags WHERE tenant_id = $1 AND content_id = $2 ORDER BY tag`, tenantID, id)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
		var t string
		return t, r.Scan(&t)
	})
}

// ContentFilter narrows ListContent; zero fields do not filter.
type ContentFilter struct {
	Type     Type
	Tag      string
	Archived bool // list the archived items instead of those in use
}

// ListContent returns the tenant's library, newest first (at most
// MaxContentsList items), with their tags.
func (s *Service) ListContent(ctx context.Context, tenantID int64, f ContentFilter) ([]Content, error) {
	where, args := `tenant_id = $1`, []any{tenantID}
	if f.Archived {
		where += ` AND archived_at <> 0`
	} else {
		where += ` AND archived_at = 0`
	}
	if f.Type != "" {
		args = append(args, string(f.Type))
		where += fmt.Sprintf(` AND type = $%d`, len(args))
	}
	if tag := textnorm.Line(f.Tag); tag != "" {
		args = append(args, tag)
		where += fmt.Sprintf(` AND id IN (SELECT content_id FROM campaign_content_tags WHERE tenant_id = $1 AND tag = $%d)`, len(args))
	}
	args = append(args, MaxContentsList)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+contentCols+` FROM campaign_content WHERE `+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, err
	}
	out, err := store.Collect(rows, scanContent)
	if err != nil || len(out) == 0 {
		return out, err
	}
	var a sqlArgs
	in := a.add(tenantID)
	list := make([]any, len(out))
	for i, c := range out {
		list[i] = c.ID
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT content_id, tag FROM campaign_content_tags WHERE tenant_id = `+in+
		` AND content_id IN (`+a.list(list...)+`) ORDER BY tag`, a.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := map[int64][]string{}
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return nil, err
		}
		tags[id] = append(tags[id], tag)
	}
	for i := range out {
		out[i].Tags = tags[out[i].ID]
	}
	return out, rows.Err()
}
