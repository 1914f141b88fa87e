package export

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// members: one row per person (merged records are folded into the one
// they were merged into), with their channels, current groups, tags,
// purchases and points.
var members = kind{
	header: []string{"member_id", "display_name", "phone", "email", "locale", "opted_out", "created_at",
		"channels", "groups", "tags", "orders", "spend", "points"},
	query: func(d store.Dialect) string {
		return `SELECT m.id, m.display_name, m.phone, m.email, m.locale, m.opted_out, m.created_at,
			` + list(d, `SELECT i.channel AS v, i.id AS k FROM identities i WHERE i.tenant_id = m.tenant_id AND i.member_id = m.id`) + `,
			` + list(d, `SELECT g.name AS v, g.id AS k FROM group_members gm
				JOIN community_groups g ON g.id = gm.group_id AND g.tenant_id = gm.tenant_id
				WHERE gm.tenant_id = m.tenant_id AND gm.member_id = m.id AND gm.left_at IS NULL AND gm.removed_at IS NULL`) + `,
			` + list(d, `SELECT t.tag AS v, t.tag AS k FROM member_tags t WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id`) + `,
			COALESCE(mc.orders, 0), COALESCE(mc.spend_minor, 0), COALESCE(pb.balance, 0)
			FROM members m
			LEFT JOIN member_commerce mc ON mc.tenant_id = m.tenant_id AND mc.member_id = m.id
			LEFT JOIN point_balances pb ON pb.tenant_id = m.tenant_id AND pb.member_id = m.id
			WHERE m.tenant_id = $1 AND m.merged_into IS NULL AND m.created_at >= $2 AND m.created_at < $3
			ORDER BY m.id`
	},
	row: func(rows *sql.Rows, loc *time.Location) ([]string, error) {
		var mid, created, orders, spend, points int64
		var name, phone, email, locale, channels, groups, tags string
		var optedOut bool
		if err := rows.Scan(&mid, &name, &phone, &email, &locale, &optedOut, &created, &channels, &groups, &tags,
			&orders, &spend, &points); err != nil {
			return nil, err
		}
		return []string{strconv.FormatInt(mid, 10), name, phone, email, locale, strconv.FormatBool(optedOut),
			stamp(created, loc), channels, groups, tags, strconv.FormatInt(orders, 10), amount(spend),
			strconv.FormatInt(points, 10)}, nil
	},
}

// orders: one row per order, amounts in major units, with its member (if
// matched) and its lines as "name ×qty".
var orders = kind{
	header: []string{"order_id", "external_id", "source", "paid_at", "amount", "refunded", "net", "currency",
		"member_id", "member_name", "matched_by", "coupon", "channel", "items"},
	query: func(d store.Dialect) string {
		return `SELECT o.id, o.external_id, o.source, o.paid_at, o.amount_minor, o.refunded_minor, o.currency,
			o.member_id, COALESCE(m.display_name, ''), o.matched_by, o.coupon, o.channel,
			` + list(d, `SELECT l.name || ' ×' || l.qty AS v, l.line_no AS k FROM order_lines l
				WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id`) + `
			FROM orders o LEFT JOIN members m ON m.id = o.member_id AND m.tenant_id = o.tenant_id
			WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3
			ORDER BY o.paid_at, o.id`
	},
	row: func(rows *sql.Rows, loc *time.Location) ([]string, error) {
		var oid, paid, amt, refunded int64
		var member sql.NullInt64
		var ext, source, currency, name, matched, coupon, channel, items string
		if err := rows.Scan(&oid, &ext, &source, &paid, &amt, &refunded, &currency, &member, &name, &matched,
			&coupon, &channel, &items); err != nil {
			return nil, err
		}
		return []string{strconv.FormatInt(oid, 10), ext, source, stamp(paid, loc), amount(amt), amount(refunded),
			amount(amt - refunded), currency, id(member), name, matched, coupon, channel, items}, nil
	},
}

// events: the whole log, oldest first, with member and group names and
// the event's data as compact JSON.
var events = kind{
	header: []string{"event_id", "at", "type", "source", "source_id", "member_id", "member_name",
		"group_id", "group_name", "staff_id", "data"},
	query: func(d store.Dialect) string {
		return `SELECT e.id, e.at, e.type, e.source, e.source_id, e.member_id, COALESCE(m.display_name, ''),
			e.group_id, COALESCE(g.name, ''), e.staff_id, e.data
			FROM events e
			LEFT JOIN members m ON m.id = e.member_id AND m.tenant_id = e.tenant_id
			LEFT JOIN community_groups g ON g.id = e.group_id AND g.tenant_id = e.tenant_id
			WHERE e.tenant_id = $1 AND e.at >= $2 AND e.at < $3
			ORDER BY e.id`
	},
	row: func(rows *sql.Rows, loc *time.Location) ([]string, error) {
		var eid, at int64
		var member, group, staff sql.NullInt64
		var typ, source, sourceID, memberName, groupName, data string
		if err := rows.Scan(&eid, &at, &typ, &source, &sourceID, &member, &memberName, &group, &groupName, &staff, &data); err != nil {
			return nil, err
		}
		return []string{strconv.FormatInt(eid, 10), stamp(at, loc), typ, source, sourceID, id(member), memberName,
			id(group), groupName, id(staff), compact(data)}, nil
	},
}

// messages: group messages, by time, not those moderation hid; the
// sender is a member, a staff account, a persona, or the brand (a post the
// outbox delivered for no staff account or persona: a playbook step, an
// alert).
var messages = kind{
	header: []string{"event_id", "at", "group_id", "group_name", "group_channel", "sender", "sender_kind",
		"member_id", "text", "reply_to"},
	query: func(d store.Dialect) string {
		return `SELECT e.id, e.at, e.group_id, COALESCE(g.name, ''), COALESCE(g.channel, ''), e.source, e.member_id, e.staff_id, e.data
			FROM events e
			LEFT JOIN community_groups g ON g.id = e.group_id AND g.tenant_id = e.tenant_id
			WHERE e.tenant_id = $1 AND e.type = 'message' AND e.group_id IS NOT NULL AND e.at >= $2 AND e.at < $3
			AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.tenant_id = e.tenant_id AND h.event_id = e.id)
			ORDER BY e.at, e.id` // the (tenant_id, type, at) index's order: no sort of the whole log
	},
	row: func(rows *sql.Rows, loc *time.Location) ([]string, error) {
		var eid, at int64
		var group, member, staff sql.NullInt64
		var groupName, channel, source, data string
		if err := rows.Scan(&eid, &at, &group, &groupName, &channel, &source, &member, &staff, &data); err != nil {
			return nil, err
		}
		var m messageData
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, fmt.Errorf("message %d: %w", eid, err)
		}
		return []string{strconv.FormatInt(eid, 10), stamp(at, loc), id(group), groupName, channel, m.SenderName,
			senderKind(source, staff, m), id(member), m.Text, id(sql.NullInt64{Int64: m.ReplyTo, Valid: true})}, nil
	},
}

// messageData is the part of a message event's data an export shows.
type messageData struct {
	Text       string `json:"text"`
	SenderName string `json:"sender_name"`
	PersonaID  int64  `json:"persona_id"`
	ReplyTo    int64  `json:"reply_to"`
}

func senderKind(source string, staff sql.NullInt64, m messageData) string {
	switch {
	case m.PersonaID != 0:
		return "persona"
	case staff.Valid && staff.Int64 != 0:
		return "staff"
	case source == event.SourceOutbox:
		return "brand"
	}
	return "member"
}

// compact is the data column as compact JSON (PostgreSQL's JSONB adds
// spaces), or as stored if it is not JSON.
func compact(data string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &m); err == nil && m["reply_token"] != nil {
		// A platform's short-lived token for answering the message: a
		// credential of sorts, of no use in a spreadsheet.
		delete(m, "reply_token")
		if b, err := json.Marshal(m); err == nil {
			return string(b)
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(data)); err != nil {
		return data
	}
	return b.String()
}
