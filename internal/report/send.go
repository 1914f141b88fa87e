package report

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// TopFindings is how many findings a sent report carries.
const TopFindings = 3

// Title is a report's title in lang: "Weekly review 2026-11-16 – 2026-11-22".
func Title(cat *i18n.Catalog, lang string, kind Kind, p analytics.Period) string {
	if kind == Monthly {
		return cat.T(lang, "report.title.monthly", p.From.Date().Format("2006-01"))
	}
	return cat.T(lang, "report.title."+string(kind), DayRange(p))
}

// Message is the text sent to staff: the title, the top findings, and
// the link to the whole report.
func Message(cat *i18n.Catalog, lang string, st Stored, link string) string {
	var b strings.Builder
	b.WriteString(Title(cat, lang, st.Kind, st.Period))
	fs := st.Report.Findings
	for i, f := range fs[:min(len(fs), TopFindings)] {
		fmt.Fprintf(&b, "\n%d. %s", i+1, f.Text(cat, lang))
	}
	b.WriteString("\n")
	b.WriteString(cat.T(lang, "report.msg.open", link))
	return b.String()
}

// Send queues the report's message to one of the brand's groups (an
// internal staff group) and records it sent, in one transaction. The
// outbox key report:<id>:<group> sends it once per group; it reports
// whether this call queued it.
func (s *Service) Send(ctx context.Context, tenantID, reportID, groupID int64) (bool, error) {
	st, err := s.Get(ctx, tenantID, reportID)
	if err != nil {
		return false, err
	}
	g, err := s.d.Community.Group(ctx, tenantID, groupID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !g.ArchivedAt.IsZero()) {
		return false, fmt.Errorf("%w: report: no group %d to send to", store.ErrInvalid, groupID)
	}
	if err != nil {
		return false, err
	}
	lang, err := s.language(ctx, tenantID)
	if err != nil {
		return false, err
	}
	link := fmt.Sprintf("%s/console/reports/%d", strings.TrimRight(s.d.PublicURL, "/"), st.ID)
	it := outbox.Item{TenantID: tenantID, Channel: g.Channel, GroupID: g.ID, IdemKey: fmt.Sprintf("report:%d:%d", st.ID, g.ID),
		Body: Message(s.d.Catalog, lang, st, link), SenderName: s.d.Catalog.T(lang, "report.msg.sender")}
	var created bool
	err = s.d.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if _, created, err = s.d.Outbox.EnqueueTx(ctx, tx, it); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE reports SET sent_at = $3 WHERE tenant_id = $1 AND id = $2 AND sent_at IS NULL`,
			tenantID, st.ID, store.Millis(s.d.now()))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("report: send %d: %w", st.ID, err)
	}
	return created, nil
}

// language is the language of the brand's sent reports: the settings',
// else the brand's.
func (s *Service) language(ctx context.Context, tenantID int64) (string, error) {
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if set.Locale != "" {
		return set.Locale, nil
	}
	t, err := s.d.Tenants.Get(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if i18n.Supported(t.Locale) {
		return t.Locale, nil
	}
	return i18n.Languages[0], nil
}
