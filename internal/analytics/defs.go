package analytics

// Kind is a metric's place in the metric system (seed 002): where members
// come from, what they do, what it yields.
type Kind string

// The kinds.
const (
	Source  Kind = "source"
	Process Kind = "process"
	Result  Kind = "result"
)

// Unit is how a value is shown.
type Unit string

// The units.
const (
	Count   Unit = "count"   // a whole number
	PerDay  Unit = "per_day" // an average per day, one decimal
	Percent Unit = "percent" // a ratio shown as a percentage
	Money   Unit = "money"   // minor units of the brand's currency
	Days    Unit = "days"    // a duration in days, one decimal
)

// Def is one metric. Its name and definition are the i18n keys
// "metric.<Key>" and "metric.<Key>.def" (every locale), shown next to every
// number; the computation is the function named in the comment.
type Def struct {
	Key  string `json:"key"`
	Kind Kind   `json:"kind"`
	Unit Unit   `json:"unit"`
	// Daily: the metric has a day-by-day Series.
	Daily bool `json:"daily"`
}

// Defs is every metric, in the order the console shows them.
var Defs = []Def{
	{"joins", Source, Count, true},
	{"new_members", Source, Count, true},
	{"returning_members", Source, Count, true},
	{"leaves", Source, Count, true},
	{"growth_rate", Source, Percent, false},

	{"active_members", Process, Count, false},
	{"dau", Process, PerDay, true},
	{"member_messages", Process, Count, true},
	{"messages_per_day", Process, PerDay, false},
	{"interaction_rate", Process, Percent, false},
	{"m2m_ratio", Process, Percent, true},
	{"brand_share", Process, Percent, true},
	{"checkin_rate", Process, Percent, false},
	{"clicks", Process, Count, true},
	{"ctr", Process, Percent, false},
	{"acquisition_rate", Process, Percent, false},

	{"orders", Result, Count, true},
	{"gmv", Result, Money, true},
	{"aov", Result, Money, false},
	{"buyers", Result, Count, false},
	{"conversion_rate", Result, Percent, false},
	{"repurchase_rate", Result, Percent, false},
	{"repurchase_cycle", Result, Days, false},
}

// DefOf returns the metric's definition.
func DefOf(key string) (Def, bool) {
	for _, d := range Defs {
		if d.Key == key {
			return d, true
		}
	}
	return Def{}, false
}
