package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// SpecialGroup is a special group (a restricted tag of the registry, DG-17)
// a resident is in.
type SpecialGroup struct {
	Tag   string `json:"tag" example:"community_correction"`
	Name  string `json:"name" example:"社区矫正对象"`
	Grade string `json:"grade,omitempty"`
	Since string `json:"since,omitempty" format:"date"`
}

// SpecialResident is a resident in a special group. Personal data is
// masked.
type SpecialResident struct {
	ID          int64          `json:"id" example:"1234"`
	Division    string         `json:"division" doc:"15-digit code of where the resident lives (grid, else village)" example:"320205001001001"`
	HouseholdID int64          `json:"household_id,omitempty"`
	Name        string         `json:"name" example:"王某"`
	Gender      string         `json:"gender,omitempty" enum:"M,F"`
	IDMasked    string         `json:"id_masked,omitempty" example:"320205********123X"`
	PhoneMasked string         `json:"phone_masked,omitempty" example:"139****5678"`
	Address     string         `json:"address,omitempty" doc:"The household's address"`
	Status      string         `json:"status" enum:"present,moved_out,deceased"`
	Groups      []SpecialGroup `json:"groups" nullable:"false" doc:"The special groups the resident is in (ordinary tags are left out)"`
}

// FollowUpStanding is a resident in a special group with where the
// follow-ups stand.
type FollowUpStanding struct {
	SpecialResident
	LastDay string `json:"last_day,omitempty" format:"date" doc:"Day of the latest follow-up; absent: never followed up"`
	LastTag string `json:"last_tag,omitempty" doc:"The group the latest follow-up was about" example:"community_correction"`
	NextDay string `json:"next_day,omitempty" format:"date" doc:"When the next follow-up is due, as the latest one planned it; absent: none planned"`
	Due     bool   `json:"due" doc:"The next follow-up is due today or earlier, or there has been none"`
	Overdue bool   `json:"overdue" doc:"The next follow-up was due before today"`
}

// FollowUpCounts are the sizes of the views of the list.
type FollowUpCounts struct {
	All     int `json:"all"`
	Due     int `json:"due"`
	Overdue int `json:"overdue"`
}

// FollowUpList is one page of the residents in special groups of a unit:
// overdue first, then due, then by the day the next follow-up is due.
type FollowUpList struct {
	Items  []FollowUpStanding `json:"items" nullable:"false"`
	Counts FollowUpCounts     `json:"counts" doc:"The residents of each view, whichever is asked"`
	More   bool               `json:"more" doc:"More residents follow: ask again with offset + limit"`
}

// FollowUp is one follow-up of a resident in a special group.
type FollowUp struct {
	ID         int64  `json:"id"`
	ResidentID int64  `json:"resident_id"`
	Division   string `json:"division" doc:"15-digit code of where the resident lived then (the figures count there)"`
	Tag        string `json:"tag" doc:"The group followed up" example:"community_correction"`
	TagName    string `json:"tag_name" example:"社区矫正对象"`
	Kind       string `json:"kind" enum:"visit,phone,talk" doc:"visit (上门走访), phone (电话联系), talk (约谈)"`
	Day        string `json:"day" format:"date"`
	NextDay    string `json:"next_day,omitempty" format:"date" doc:"When the next follow-up is due; absent: none planned"`
	Note       string `json:"note" doc:"What was found (stored encrypted)"`
	WorkerName string `json:"worker_name" doc:"Who recorded it"`
	RecordedAt string `json:"recorded_at" format:"date-time" doc:"RFC 3339, China time (+08:00)"`
}

// FollowUpHistory is a resident's follow-ups, newest first.
type FollowUpHistory struct {
	Resident SpecialResident `json:"resident"`
	Items    []FollowUp      `json:"items" nullable:"false"`
}

// NewFollowUp is a follow-up recorded.
type NewFollowUp struct {
	Tag     string `json:"tag,omitempty" maxLength:"64" doc:"Required: the group followed up, a restricted tag of the pack that the resident carries (absent: followup_tag_required; any other: followup_tag)" example:"community_correction"`
	Kind    string `json:"kind,omitempty" enum:"visit,phone,talk" doc:"Required (absent: followup_kind): visit (上门走访), phone (电话联系), talk (约谈)"`
	Day     string `json:"day,omitempty" format:"date" doc:"When it took place (YYYY-MM-DD); default today, never in the future"`
	NextDay string `json:"next_day,omitempty" format:"date" doc:"When the next one is due (after day)"`
	Note    string `json:"note,omitempty" maxLength:"8000" doc:"Required (absent or blank: followup_note_required): what was found (at most 2000 characters)"`
}

// tagName names a tag in the default locale by the pack governing division
// (its key when the pack has none).
func (s *server) tagName(division int64, key string) string {
	if pk := s.Grid.Packs.For(division); pk != nil && pk.Registry != nil {
		if t, ok := pk.Registry.Tag(key); ok {
			return t.Label.Get(policy.DefaultLocale)
		}
	}
	return key
}

func (s *server) toSpecialResident(r registry.Resident, address string) SpecialResident {
	out := SpecialResident{ID: r.ID, Division: codeString(r.Division), HouseholdID: r.HouseholdID, Name: r.Name, Gender: r.Gender,
		IDMasked: r.IDMasked, PhoneMasked: r.PhoneMasked, Address: address, Status: r.Status, Groups: []SpecialGroup{}}
	restricted := s.Grid.Registry.RestrictedTags(r.Division)
	for _, t := range r.Tags {
		if slices.Contains(restricted, t.Tag) {
			out.Groups = append(out.Groups, SpecialGroup{Tag: t.Tag, Name: s.tagName(r.Division, t.Tag), Grade: t.Grade, Since: dayString(t.Since)})
		}
	}
	return out
}

func (s *server) toFollowUp(f grid.FollowUp) FollowUp {
	return FollowUp{ID: f.ID, ResidentID: f.ResidentID, Division: codeString(f.Division), Tag: f.Tag, TagName: s.tagName(f.Division, f.Tag),
		Kind: f.Kind, Day: dayString(f.Day), NextDay: dayString(f.NextDay), Note: f.Note, WorkerName: f.WorkerName, RecordedAt: timeString(f.At)}
}

// followUpField names the request property behind a grid field error of a
// follow-up: the resident is the path's id.
func followUpField(field string) string {
	if field == "resident" {
		return "id"
	}
	return field
}

// parseDay reads a date property (YYYY-MM-DD, checked by its format) as
// YYYYMMDD; "" is 0.
func parseDay(s, field string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, invalid(field, CodeInvalid, err.Error())
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day(), nil
}

type followUpsIn struct {
	Unit   string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"The unit (inside the caller's resident.special scope; default its first)"`
	View   string `query:"view" enum:"due,overdue,all" default:"due" doc:"due: the next follow-up is due today or earlier, or there has been none; overdue: it was due before today; all: every resident in a special group"`
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"200"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

type followUpsOut struct{ Body FollowUpList }

type residentPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Resident id"`
}

type historyOut struct{ Body FollowUpHistory }

type recordIn struct {
	ID   int64 `path:"id" minimum:"1" doc:"Resident id"`
	Body NewFollowUp
}

type recordedOut struct {
	Location string `header:"Location"`
	Body     FollowUp
}

func (s *server) registerFollowUps(a huma.API) {
	tags := []string{"followups"}
	special := " Only a caller holding resident.special where the resident lives sees it; to anyone else it does not exist (404, " +
		"the refusal audited)."
	list := op("list-followups", http.MethodGet, "/followups", "Residents in special groups and their follow-ups", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity)
	list.Description = "The residents of a unit carrying a restricted tag (community correction, drug rehabilitation, released " +
		"prisoners, severe mental illness), with the latest and the next follow-up. The caller needs resident.special at the unit " +
		"(else 404, audited); every read is audited. ID numbers and phones are masked; notes are not listed."
	huma.Register(a, list, s.listFollowUps)
	history := op("get-resident-followups", http.MethodGet, "/residents/{id}/followups", "A resident's follow-ups, newest first, with their notes", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity)
	history.Description = "Every read is audited." + special
	huma.Register(a, history, s.residentFollowUps)
	record := op("record-followup", http.MethodPost, "/residents/{id}/followups", "Record a follow-up of a resident in a special group", tags,
		http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity)
	record.DefaultStatus = http.StatusCreated
	record.Description = "Every problem of the input is checked at once; the first is the error's field and code (tag followup_tag, " +
		"day followup_day_future, next_day followup_next_day, note followup_note_required, id followup_not_present) and the message " +
		"lists them all." + special
	huma.Register(a, record, s.recordFollowUp)
}

func (s *server) listFollowUps(ctx context.Context, in *followUpsIn) (*followUpsOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	unit, err := unitParam(ctx, in.Unit, "resident.special")
	if err != nil {
		return nil, err
	}
	rows, counts, more, err := s.Grid.FollowUpList(ctx, access.From(ctx), grid.FollowUpFilter{Unit: unit, View: in.View,
		Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, gridError(err, followUpField)
	}
	out := &followUpsOut{Body: FollowUpList{Items: make([]FollowUpStanding, 0, len(rows)), More: more,
		Counts: FollowUpCounts{All: counts.All, Due: counts.Due, Overdue: counts.Overdue}}}
	for _, r := range rows {
		out.Body.Items = append(out.Body.Items, FollowUpStanding{SpecialResident: s.toSpecialResident(r.Resident, r.Address),
			LastDay: dayString(r.LastDay), LastTag: r.LastTag, NextDay: dayString(r.NextDay), Due: r.Due, Overdue: r.Overdue})
	}
	return out, nil
}

func (s *server) residentFollowUps(ctx context.Context, in *residentPath) (*historyOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	r, fs, err := s.Grid.ResidentFollowUps(ctx, p, in.ID)
	if err != nil {
		return nil, gridError(err, followUpField)
	}
	address := ""
	if r.HouseholdID != 0 {
		hs, err := s.Grid.Registry.HouseholdsByID(ctx, p, []int64{r.HouseholdID})
		if err != nil {
			return nil, err
		}
		address = hs[r.HouseholdID].Address
	}
	out := &historyOut{Body: FollowUpHistory{Resident: s.toSpecialResident(r, address), Items: make([]FollowUp, 0, len(fs))}}
	for _, f := range fs {
		out.Body.Items = append(out.Body.Items, s.toFollowUp(f))
	}
	return out, nil
}

func (s *server) recordFollowUp(ctx context.Context, in *recordIn) (*recordedOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	b := in.Body
	day, err := parseDay(b.Day, "day")
	if err != nil {
		return nil, err
	}
	next, err := parseDay(b.NextDay, "next_day")
	if err != nil {
		return nil, err
	}
	f, err := s.Grid.Record(ctx, access.From(ctx), grid.FollowUp{ResidentID: in.ID, Tag: b.Tag, Kind: b.Kind, Day: day,
		NextDay: next, Note: b.Note})
	if err != nil {
		return nil, gridError(err, followUpField)
	}
	return &recordedOut{Location: Prefix + "/residents/" + strconv.FormatInt(in.ID, 10) + "/followups", Body: s.toFollowUp(f)}, nil
}
