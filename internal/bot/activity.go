package bot

import (
	"strconv"
	"strings"
	"time"
)

// Activity is an open poll or UGC prompt of the group (the poll package
// owns them; the core only needs what decides a vote or an entry).
type Activity struct {
	ID        int64
	Prompt    bool   // a prompt (entries) rather than a poll (votes)
	Options   int    // polls: how many options, voted 1..Options
	Tag       string // prompts: the word that marks an entry
	Points    int64  // prompts: points for a member's first entry
	PersonaID int64
	ClosesAt  time.Time
}

// Vote is a member's vote in poll PollID (Choice is 1-based). The shell
// records it silently: the poll's live tally is the answer.
type Vote struct {
	PollID int64
	Choice int
}

// Entry records the message as an entry of prompt PromptID; the shell
// awards Points for the member's first entry and thanks them then.
type Entry struct {
	PromptID  int64
	PersonaID int64
	Points    int64
	Text      string
}

func (Vote) action()  {}
func (Entry) action() {}

// voteWords may precede the number of a vote ("投1", "vote 2", "#3").
var voteWords = []string{"投票", "投", "选", "選", "vote", "#"}

// parseVote reads a whole message as a vote for one of n options: the
// number alone (full-width digits too), or after a vote word; nothing
// else ("+1" is agreement, not a vote for option 1).
func parseVote(norm string, n int) (int, bool) {
	s := norm
	for _, w := range voteWords {
		if rest, ok := strings.CutPrefix(s, w); ok {
			s = strings.TrimSpace(rest)
			break
		}
	}
	if len(s) == 0 || len(s) > 2 || s[0] < '1' || s[0] > '9' || (len(s) == 2 && (s[1] < '0' || s[1] > '9')) {
		return 0, false
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 1 || c > n {
		return 0, false
	}
	return c, true
}

// activity handles votes and prompt entries. The newest open activity
// wins when several could take the message.
func (e *eval) activity(msg *message) ([]Action, bool) {
	for i := len(e.st.Activities) - 1; i >= 0; i-- {
		a := e.st.Activities[i]
		if !e.in.At.Before(a.ClosesAt) {
			continue
		}
		if !a.Prompt {
			if c, ok := parseVote(msg.folded, a.Options); ok {
				return []Action{Vote{PollID: a.ID, Choice: c}}, true
			}
			continue
		}
		if tag := fold(a.Tag); tag != "" && strings.Contains(msg.folded, tag) {
			return []Action{Entry{PromptID: a.ID, PersonaID: a.PersonaID, Points: a.Points, Text: e.in.Text}}, true
		}
	}
	return nil, false
}
