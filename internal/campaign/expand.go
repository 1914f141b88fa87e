package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JobState is where a job is in the queue.
type JobState string

const (
	JobPending   JobState = "pending"   // waiting for its time (or deferred past quiet hours)
	JobRunning   JobState = "running"   // claimed by a worker until its lease ends
	JobSent      JobState = "sent"      // done: at least one recipient queued in the outbox
	JobSkipped   JobState = "skipped"   // done: every recipient skipped (each with its reason)
	JobFailed    JobState = "failed"    // done: could not be sent (the reason says why)
	JobCancelled JobState = "cancelled" // the step or playbook changed, or it was cancelled
)

// DefaultBestHour is the best hour of a group without history.
const DefaultBestHour = 20

// Job is one send of the queue: a step to one group (a post), or to the
// step's segment (private messages), for one occurrence of the anchor.
type Job struct {
	ID          int64
	TenantID    int64
	PlaybookID  int64
	StepID      int64
	LiveID      int64 // live-anchored playbooks
	MemberID    int64 // member journeys: the member who joined
	GroupID     int64 // a group post; 0 for private messages
	ContentID   int64
	ContentType Type
	Key         string // pb<id>:s<step>:<g<group>|dm>:<occurrence>: unique per tenant
	RunAt       time.Time
	// AnchorAt, Days, Minutes and Clock are how RunAt was computed, so a
	// moved anchor moves the job the same way (Reanchored).
	AnchorAt time.Time
	Days     int
	Minutes  int
	Clock    string // the local "HH:MM" used; "" for a minute offset
	// BestTime marks a job whose Clock is the group's best hour, which
	// BestTimes fills in after Expand (Expand puts DefaultBestHour).
	BestTime bool

	State      JobState
	Reason     string
	LeaseUntil time.Time
	Attempts   int
	Sent       int
	Skipped    int
	CreatedAt  time.Time
	DoneAt     time.Time

	bestGroup int64 // the group whose best hour a BestTime job takes
}

// LiveOccurrence, MemberOccurrence and DateOccurrence name one run of a
// playbook in its jobs' keys: its live, its member, or its local date.
func LiveOccurrence(liveID int64) string     { return "l" + strconv.FormatInt(liveID, 10) }
func MemberOccurrence(memberID int64) string { return "m" + strconv.FormatInt(memberID, 10) }
func DateOccurrence(at time.Time, loc *time.Location) string {
	return at.In(orUTC(loc)).Format("2006-01-02")
}

// OccurrenceOf names the occurrence of p for its anchor (memberID for a
// member journey).
func OccurrenceOf(p Playbook, memberID int64, loc *time.Location) string {
	switch p.Anchor {
	case AnchorMemberJoin:
		return MemberOccurrence(memberID)
	case AnchorDate:
		return DateOccurrence(p.AnchorAt, loc)
	}
	return LiveOccurrence(p.LiveID)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// Expand turns a playbook into its jobs for one occurrence of its anchor:
// one per step and target group, or one per step for private messages.
// A step's time is its day offset in the tenant's calendar (loc), then its
// local time of day — so "T-1 at 10:00" is 10:00 local whatever daylight
// saving did in between — or, without one, its minute offset from the
// anchor's local time that day. A member journey's occurrence
// (MemberOccurrence) gives the jobs their MemberID. Pure: no clock, no I/O.
func Expand(p Playbook, anchor time.Time, loc *time.Location, occurrence string) []Job {
	loc = orUTC(loc)
	var member int64
	if p.Anchor == AnchorMemberJoin && strings.HasPrefix(occurrence, "m") {
		member, _ = strconv.ParseInt(occurrence[1:], 10, 64)
	}
	var live int64
	if p.Anchor == AnchorLiveStart || p.Anchor == AnchorLiveEnd {
		live = p.LiveID
	}
	var out []Job
	for _, st := range p.Steps {
		clock := st.At
		if st.BestTime && clock == "" {
			clock = fmt.Sprintf("%02d:00", DefaultBestHour)
		}
		base := Job{TenantID: p.TenantID, PlaybookID: p.ID, StepID: st.ID, LiveID: live, MemberID: member,
			ContentID: st.ContentID, ContentType: st.ContentType, AnchorAt: anchor, Days: st.Days, Clock: clock,
			BestTime: st.BestTime, State: JobPending}
		if clock == "" {
			base.Minutes = st.Minutes
		}
		base.RunAt = runAt(anchor, loc, base.Days, base.Clock, base.Minutes)
		prefix := fmt.Sprintf("pb%d:s%d:", p.ID, st.ID)
		if st.Target.Kind == TargetDM {
			j := base
			j.Key = prefix + "dm:" + occurrence
			j.bestGroup = st.Target.Segment.GroupID
			if j.bestGroup == 0 && len(st.Target.Groups) > 0 {
				j.bestGroup = st.Target.Groups[0]
			}
			out = append(out, j)
			continue
		}
		for _, g := range st.Target.Groups {
			j := base
			j.GroupID, j.bestGroup = g, g
			j.Key = fmt.Sprintf("%sg%d:%s", prefix, g, occurrence)
			out = append(out, j)
		}
	}
	return out
}

// runAt is days after anchor in loc's calendar, at clock ("HH:MM") or, when
// clock is empty, at the anchor's local time plus minutes.
func runAt(anchor time.Time, loc *time.Location, days int, clock string, minutes int) time.Time {
	local := anchor.In(orUTC(loc))
	y, m, d := local.Date()
	if cm, ok := ParseClock(clock); ok {
		return time.Date(y, m, d+days, cm/60, cm%60, 0, 0, local.Location()).UTC()
	}
	t := time.Date(y, m, d+days, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), local.Location())
	return t.Add(time.Duration(minutes) * time.Minute).UTC()
}

// Reanchored is j moved to a new anchor the way Expand would have placed
// it: the same day offset and local time of day (its best hour included),
// or the same minute offset.
func (j Job) Reanchored(anchor time.Time, loc *time.Location) Job {
	j.AnchorAt = anchor
	j.RunAt = runAt(anchor, loc, j.Days, j.Clock, j.Minutes)
	return j
}
