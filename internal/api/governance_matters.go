package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Matters (议事事项) through the pack's procedure (Sha county's 五议,
// Dongguan's five steps, Nantong's majority rule), their implementation
// (四步) and the annual work goals. Meeting stages pass only by votes
// recorded at meetings (the meetings endpoints); here a matter is
// proposed, read, implemented, evaluated and withdrawn.

// maxMatterBody bounds an implementation step's body: its photos come
// base64-encoded (6 of 5 MB, a third more in base64).
const maxMatterBody = 42 << 20

// MatterUploads lift the server's --max-body for the implementation steps
// to maxMatterBody (the app passes them to web.MaxBody).
var MatterUploads = []web.Upload{
	{Method: http.MethodPost, Path: Prefix + "/matters/*/steps", Limit: maxMatterBody},
}

// Matter is a matter going through its village's procedure.
type Matter struct {
	ID           int64         `json:"id" doc:"Internal id: what a meeting's agenda item names (matter_id)"`
	Number       string        `json:"number" doc:"Matter number: YS, the village's 12-digit code, the year and the village's sequence of the year" example:"YS320205001001-2026-003"`
	Village      string        `json:"village" doc:"15-digit code of the village" example:"320205001001000"`
	Procedure    string        `json:"procedure" doc:"The procedure's key in the village's policy pack" example:"wuyi"`
	Stage        string        `json:"stage" doc:"The current stage's key (the last one once closed)" example:"discuss"`
	StageLabel   string        `json:"stage_label" example:"管委会商议"`
	Status       string        `json:"status" enum:"open,rejected,done,withdrawn"`
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Proposer     string        `json:"proposer" doc:"residents, or the key of the proposing body kind"`
	ProposerName string        `json:"proposer_name,omitempty" doc:"The lead proposer (a resident, by name) or the body"`
	Signatures   int           `json:"signatures,omitempty"`
	Budget       string        `json:"budget" doc:"Yuan, two decimals" example:"120000.00"`
	Spent        string        `json:"spent" doc:"Yuan spent so far (the sum of the progress reports)" example:"35000.50"`
	Progress     int           `json:"progress" minimum:"0" maximum:"100" doc:"Percent of the work done"`
	GoalYear     int           `json:"goal_year,omitempty" doc:"An annual work goal of this year (SX-4)"`
	Reason       string        `json:"reason,omitempty" doc:"Why it was rejected (the resolution, else the vote's figures) or withdrawn; published"`
	Responsible  string        `json:"responsible,omitempty" doc:"Who implements (assign step)"`
	DueDay       string        `json:"due_day,omitempty" format:"date"`
	ProposedDay  string        `json:"proposed_day" format:"date"`
	ResolvedDay  string        `json:"resolved_day,omitempty" format:"date" doc:"When the resolving stage (the last meeting stage) passed"`
	ClosedDay    string        `json:"closed_day,omitempty" format:"date"`
	Ratings      int           `json:"ratings" doc:"Residents' scored ratings"`
	Rating       float64       `json:"rating,omitempty" doc:"Their average (1–5)"`
	Stages       []MatterStage `json:"stages" nullable:"false" doc:"The procedure's stages with where the matter stands"`
	Actions      []string      `json:"actions" nullable:"false" doc:"The implementation steps the current stage allows (POST /matters/{number}/steps)"`
	Steps        []MatterStep  `json:"steps,omitempty" doc:"The history, oldest first (GET one matter and the actions only)"`
	CreatedBy    string        `json:"created_by"`
	CreatedAt    string        `json:"created_at" format:"date-time"`
	UpdatedAt    string        `json:"updated_at" format:"date-time"`
}

// MatterStage is one stage of a matter's procedure.
type MatterStage struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Kind  string `json:"kind" enum:"propose,meeting,implement,evaluate"`
	Body  string `json:"body,omitempty" doc:"Meeting stages: the body kind that votes"`
	State string `json:"state" enum:"done,current,todo,failed,stopped"`
}

// MatterStep is one entry of a matter's history.
type MatterStep struct {
	ID        int64        `json:"id"`
	Stage     string       `json:"stage"`
	Action    string       `json:"action" enum:"propose,pass,reject,no_quorum,assign,implement,urge,supervise,complete,evaluate,withdraw"`
	Day       string       `json:"day" format:"date"`
	Note      string       `json:"note,omitempty"`
	Percent   int          `json:"percent,omitempty"`
	Spent     string       `json:"spent,omitempty" doc:"Yuan spent with this report"`
	Public    bool         `json:"public" doc:"Shown on the village's public page"`
	MeetingID int64        `json:"meeting_id,omitempty" doc:"The meeting that decided it (or where it was urged)"`
	Vote      *MatterVote  `json:"vote,omitempty" doc:"The vote's figures (pass, reject, no_quorum)"`
	Photos    []MatterFile `json:"photos,omitempty"`
	Actor     string       `json:"actor"`
}

// MatterVote is the figures of a vote on a matter.
type MatterVote struct {
	Meeting string `json:"meeting"`
	Result  string `json:"result" enum:"passed,failed,no_quorum"`
	Members int    `json:"members"`
	Present int    `json:"present"`
	For     int    `json:"for"`
	Against int    `json:"against"`
	Abstain int    `json:"abstain"`
}

// MatterFile is a photo of a step.
type MatterFile struct {
	ID   int64  `json:"id"`
	Type string `json:"type" example:"image/jpeg"`
	Size int64  `json:"size"`
}

// matterYuan writes fen as a plain decimal of yuan: 1234550 → "12345.50".
func matterYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	c := strconv.FormatInt(fen%100, 10)
	if len(c) < 2 {
		c = "0" + c
	}
	return sign + strconv.FormatInt(fen/100, 10) + "." + c
}

func (s *server) toMatter(m governance.Matter, steps []governance.Step) Matter {
	g := s.Governance.Rules(m.Division)
	pr, _ := g.Procedure(m.Procedure)
	out := Matter{ID: m.ID, Number: m.Number, Village: codeString(m.Division), Procedure: m.Procedure, Stage: m.Stage, Status: m.Status,
		Title: m.Title, Description: m.Description, Proposer: m.Proposer, ProposerName: m.ProposerName, Signatures: m.Signatures,
		Budget: matterYuan(m.Budget), Spent: matterYuan(m.Spent), Progress: m.Progress, GoalYear: m.GoalYear, Reason: m.Reason,
		Responsible: m.Responsible, DueDay: calendar.FormatDay(m.DueDay), ProposedDay: calendar.FormatDay(m.ProposedDay),
		ResolvedDay: calendar.FormatDay(m.ResolvedDay), ClosedDay: calendar.FormatDay(m.ClosedDay), Ratings: m.RatingN,
		Rating: m.Rating(), CreatedBy: m.CreatedBy, CreatedAt: timeString(m.CreatedAt), UpdatedAt: timeString(m.UpdatedAt),
		Stages: []MatterStage{}, Actions: []string{}}
	_, at, _ := pr.Stage(m.Stage)
	for i, st := range pr.Stages {
		ms := MatterStage{Key: st.Key, Label: st.Label.Get(policy.DefaultLocale), Kind: st.Kind, Body: st.Body, State: "todo"}
		switch {
		case m.Status == governance.MatterDone || i < at:
			ms.State = "done"
		case i == at && m.Status == governance.MatterRejected:
			ms.State = "failed"
		case i == at && m.Status == governance.MatterWithdrawn:
			ms.State = "stopped"
		case i == at:
			ms.State = "current"
		}
		if st.Key == m.Stage {
			out.StageLabel = ms.Label
		}
		out.Stages = append(out.Stages, ms)
	}
	staff := governance.StaffActs()
	for _, a := range governance.StageActions(pr, m.Position()) {
		for _, x := range staff {
			if a == x {
				out.Actions = append(out.Actions, a)
			}
		}
	}
	for _, st := range steps {
		ms := MatterStep{ID: st.ID, Stage: st.Stage, Action: st.Action, Day: calendar.FormatDay(st.Day), Note: st.Note,
			Percent: st.Percent, Public: st.Public, MeetingID: st.MeetingID, Actor: st.Actor}
		if st.Spent != 0 {
			ms.Spent = matterYuan(st.Spent)
		}
		if mt := st.Meeting; mt != nil && (st.Action == governance.ActPass || st.Action == governance.ActReject || st.Action == governance.ActNoQuorum) {
			ms.Vote = &MatterVote{Meeting: mt.Title, Result: mt.Result, Members: mt.Members, Present: mt.Present, For: mt.For,
				Against: mt.Against, Abstain: mt.Abstain}
		}
		for _, ph := range st.Photos {
			ms.Photos = append(ms.Photos, MatterFile{ID: ph.ID, Type: ph.Mime, Size: ph.Size})
		}
		out.Steps = append(out.Steps, ms)
	}
	return out
}

// matterError translates governance's errors: invalid input is 422 with
// the first field and code (the message lists every problem), a move the
// procedure refuses 409 with the refusal's code (out_of_order, closed,
// wrong_body, not_assigned, assigned, …) and its reason, a matter seen but
// not to be changed 403.
func (s *server) matterError(err error) error {
	var es field.Errors
	var pe *governance.ProcedureError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = e.Field + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(es[0].Field, es[0].Code, strings.Join(parts, "; "))
	case errors.As(err, &pe):
		msg := pe.Error()
		if pe.Procedure != "" {
			// the rules of any pack defining the procedure name its stages
			for _, p := range s.Governance.Packs.Packs() {
				if _, ok := p.Governance.Procedure(pe.Procedure); ok && p.Governance != nil {
					msg = governance.RefusalText("en", p.Governance, pe)
					break
				}
			}
		}
		return &Error{Status: http.StatusConflict, Code: pe.Code, Message: msg}
	case errors.Is(err, governance.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// NewMatter is a matter proposed at a village.
type NewMatter struct {
	Village      string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village (a grid stands for its village); the caller needs governance.manage there" example:"320205001001"`
	Procedure    string `json:"procedure,omitempty" maxLength:"64" doc:"A procedure key of the village's pack (default: its first)"`
	Title        string `json:"title" maxLength:"400"`
	Description  string `json:"description" maxLength:"16000"`
	Proposer     string `json:"proposer" maxLength:"64" doc:"residents, or a body kind the procedure's propose stage lists"`
	ProposerName string `json:"proposer_name,omitempty" maxLength:"200" doc:"The lead proposer (required for residents)"`
	Signatures   int    `json:"signatures,omitempty" minimum:"0" maximum:"10000" doc:"Residents who signed (residents; the pack sets the least)"`
	Budget       string `json:"budget,omitempty" maxLength:"32" doc:"Yuan, e.g. 120000 or 3500.50"`
	GoalYear     int    `json:"goal_year,omitempty" minimum:"0" maximum:"2100" doc:"Makes it an annual work goal of that year (last, this or next year)"`
}

type createMatterIn struct{ Body NewMatter }

type createdMatterOut struct {
	Location string `header:"Location"`
	Body     Matter
}

type matterOut struct{ Body Matter }

type matterPath struct {
	Number string `path:"number" pattern:"^YS[0-9]{12}-[0-9]{4}-[0-9]{3,}$" doc:"Matter number" example:"YS320205001001-2026-003"`
}

type mattersIn struct {
	Unit     string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only matters of this subtree (inside the caller's governance.view scope)"`
	Stage    string `query:"stage" maxLength:"64" doc:"Only matters at this stage key"`
	Status   string `query:"status" enum:"open,rejected,done,withdrawn"`
	GoalYear int    `query:"goal_year" minimum:"0" maximum:"2100" doc:"Only the annual work goals of this year"`
	Q        string `query:"q" maxLength:"100" doc:"A number (prefix) or words of the title"`
	Limit    int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
	Offset   int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// MatterList is one page of matters, newest first.
type MatterList struct {
	Items []Matter `json:"items" nullable:"false"`
	More  bool     `json:"more" doc:"More matters follow: ask again with offset + limit"`
}

type mattersOut struct{ Body MatterList }

// NewMatterStep is one implementation step, the close of the evaluation.
type NewMatterStep struct {
	Kind        string   `json:"kind" enum:"assign,implement,urge,supervise,complete,evaluate" doc:"assign (交办: responsible, due; once), implement (a progress report: note, percent, spent, photos), urge (督促 at a held meeting of the urging body: meeting_id, note), supervise (residents' comments: note, photos), complete (the final report: note, spent, photos; moves the matter on), evaluate (close the year-end evaluation; moves the matter on)"`
	Note        string   `json:"note,omitempty" maxLength:"16000" doc:"Required but for assign and evaluate"`
	Responsible string   `json:"responsible,omitempty" maxLength:"200"`
	Due         string   `json:"due,omitempty" format:"date" doc:"assign: by when (not before today)"`
	Percent     *int     `json:"percent,omitempty" minimum:"0" maximum:"100" doc:"implement: work done, never less than before"`
	Spent       string   `json:"spent,omitempty" maxLength:"32" doc:"implement, complete: yuan spent since the last report"`
	MeetingID   int64    `json:"meeting_id,omitempty" minimum:"0" doc:"urge: a held meeting of the urging body of the village"`
	Photos      []string `json:"photos,omitempty" maxItems:"6" doc:"implement, supervise, complete: base64 JPEG, PNG or WebP, at most 5 MB each"`
	Public      *bool    `json:"public,omitempty" doc:"Show the step on the public page (default true)"`
}

type matterStepIn struct {
	Number string `path:"number" pattern:"^YS[0-9]{12}-[0-9]{4}-[0-9]{3,}$" doc:"Matter number"`
	Body   NewMatterStep
}

// MatterWithdrawal withdraws a matter.
type MatterWithdrawal struct {
	Reason string `json:"reason" maxLength:"16000" doc:"Why (required; published)"`
}

type matterWithdrawIn struct {
	Number string `path:"number" pattern:"^YS[0-9]{12}-[0-9]{4}-[0-9]{3,}$" doc:"Matter number"`
	Body   MatterWithdrawal
}

type goalsIn struct {
	Village string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village" example:"320205001001"`
	Year    int    `query:"year" minimum:"2000" maximum:"2100" doc:"The year (default this year)"`
}

// GoalList is a village's annual work goals of a year (SX-4).
type GoalList struct {
	Village string   `json:"village"`
	Year    int      `json:"year"`
	Target  int      `json:"target,omitempty" doc:"How many goals the pack wants (SX-4: 32)"`
	Total   int      `json:"total"`
	Done    int      `json:"done"`
	Budget  string   `json:"budget"`
	Spent   string   `json:"spent"`
	Items   []Matter `json:"items" nullable:"false"`
}

type goalsOut struct{ Body GoalList }

func (s *server) registerMatters(a huma.API) {
	tags := []string{"matters"}
	create := op("create-matter", http.MethodPost, "/matters", "Propose a matter at a village", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	create.Description = "The caller needs governance.manage at the village. The procedure's propose stage checks who proposes " +
		"and how many residents signed, and passes at once: the matter waits at the next stage. Every problem of the input is " +
		"checked at once; the first is the error's field and code (e.g. signatures signatures, proposer proposer)."
	huma.Register(a, create, s.createMatter)
	huma.Register(a, op("get-matter", http.MethodGet, "/matters/{number}", "A matter the caller sees (governance.view at its village), with its history", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getMatter)
	huma.Register(a, op("list-matters", http.MethodGet, "/matters", "Matters in the caller's governance.view scope, newest first", tags,
		http.StatusUnprocessableEntity), s.listMatters)
	step := op("add-matter-step", http.MethodPost, "/matters/{number}/steps", "Take an implementation step (四步) or close the evaluation", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity)
	step.MaxBodyBytes = maxMatterBody
	step.Description = "Needs governance.manage at the matter's village. The implementation steps only at the implement stage " +
		"(assign first and once), evaluate only at the evaluate stage; anything else is 409 with the refusal's code " +
		"(out_of_order, closed, not_assigned, assigned) and its reason. Meeting stages pass only by votes recorded at meetings. " +
		"Returns the matter as it is now."
	huma.Register(a, step, s.addMatterStep)
	wd := op("withdraw-matter", http.MethodPost, "/matters/{number}/withdraw", "Withdraw an open matter, with the reason", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity)
	wd.MaxBodyBytes = maxBody
	huma.Register(a, wd, s.withdrawMatter)
	huma.Register(a, op("list-goals", http.MethodGet, "/goals", "A village's annual work goals (SX-4) of a year, with the pack's target", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listGoals)
}

func (s *server) createMatter(ctx context.Context, in *createMatterIn) (*createdMatterOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b := in.Body
	village, err := parseCode(b.Village)
	if err != nil {
		return nil, invalid("village", CodeInvalid, err.Error())
	}
	m, err := s.Governance.Propose(ctx, access.From(ctx), governance.MatterInput{Village: village, Procedure: b.Procedure,
		Title: b.Title, Description: b.Description, Proposer: b.Proposer, ProposerName: b.ProposerName, Signatures: b.Signatures,
		Budget: b.Budget, GoalYear: b.GoalYear})
	if err != nil {
		return nil, s.matterError(err)
	}
	return &createdMatterOut{Location: Prefix + "/matters/" + m.Number, Body: s.toMatter(m, nil)}, nil
}

// matterWithSteps reads a matter by number with its history.
func (s *server) matterWithSteps(ctx context.Context, p *access.Principal, number string) (Matter, error) {
	m, err := s.Governance.MatterByNumber(ctx, p, number)
	if err != nil {
		return Matter{}, s.matterError(err)
	}
	steps, err := s.Governance.MatterSteps(ctx, p, m.ID)
	if err != nil {
		return Matter{}, s.matterError(err)
	}
	return s.toMatter(m, steps), nil
}

func (s *server) getMatter(ctx context.Context, in *matterPath) (*matterOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	m, err := s.matterWithSteps(ctx, access.From(ctx), in.Number)
	if err != nil {
		return nil, err
	}
	return &matterOut{Body: m}, nil
}

func (s *server) listMatters(ctx context.Context, in *mattersIn) (*mattersOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	f := governance.MatterFilter{Stage: in.Stage, Status: in.Status, GoalYear: in.GoalYear, Q: in.Q, Limit: in.Limit, Offset: in.Offset}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		f.Unit = code
	}
	list, err := s.Governance.Matters(ctx, access.From(ctx), f)
	if err != nil {
		return nil, s.matterError(err)
	}
	out := &mattersOut{Body: MatterList{Items: make([]Matter, 0, len(list.Matters)), More: list.More}}
	for _, m := range list.Matters {
		out.Body.Items = append(out.Body.Items, s.toMatter(m, nil))
	}
	return out, nil
}

func (s *server) addMatterStep(ctx context.Context, in *matterStepIn) (*matterOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b := in.Body
	a := governance.MatterAction{Kind: b.Kind, Note: b.Note, Responsible: b.Responsible, Due: b.Due, Percent: b.Percent,
		Spent: b.Spent, MeetingID: b.MeetingID, Private: b.Public != nil && !*b.Public}
	for i, ph := range b.Photos {
		data, err := base64.StdEncoding.DecodeString(ph)
		if err != nil {
			return nil, invalid("photos["+strconv.Itoa(i)+"]", CodeInvalid, "not base64")
		}
		a.Photos = append(a.Photos, data)
	}
	p := access.From(ctx)
	if _, err := s.Governance.ActOnMatter(ctx, p, in.Number, a); err != nil {
		return nil, s.matterError(err)
	}
	m, err := s.matterWithSteps(ctx, p, in.Number)
	if err != nil {
		return nil, err
	}
	return &matterOut{Body: m}, nil
}

func (s *server) withdrawMatter(ctx context.Context, in *matterWithdrawIn) (*matterOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	_, err := s.Governance.ActOnMatter(ctx, p, in.Number, governance.MatterAction{Kind: governance.ActWithdraw, Note: in.Body.Reason})
	if err != nil {
		var es field.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				if e.Field == "note" {
					e.Field = "reason"
				}
			}
		}
		return nil, s.matterError(err)
	}
	m, err := s.matterWithSteps(ctx, p, in.Number)
	if err != nil {
		return nil, err
	}
	return &matterOut{Body: m}, nil
}

func (s *server) listGoals(ctx context.Context, in *goalsIn) (*goalsOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	code, err := parseCode(in.Village)
	if err != nil {
		return nil, invalid("village", CodeInvalid, err.Error())
	}
	village, ok := governance.VillageOf(code)
	if !ok {
		return nil, invalid("village", CodeInvalid, "not a village")
	}
	year := in.Year
	if year == 0 {
		year = s.Governance.Today() / 10000
	}
	g, err := s.Governance.GoalsFor(ctx, access.From(ctx), village, year)
	if err != nil {
		return nil, s.matterError(err)
	}
	out := &goalsOut{Body: GoalList{Village: codeString(village), Year: year, Target: g.Target, Total: len(g.Matters), Done: g.Done,
		Budget: matterYuan(g.Budget), Spent: matterYuan(g.Spent), Items: make([]Matter, 0, len(g.Matters))}}
	for _, m := range g.Matters {
		out.Body.Items = append(out.Body.Items, s.toMatter(m, nil))
	}
	return out, nil
}
