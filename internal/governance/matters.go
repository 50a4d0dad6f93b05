package governance

import (
	"context"
	"errors"
	"github.com/shequ-platform/shequ/internal/platform/money"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Matters (议事事项): an important matter of a village going through the
// pack's procedure (procedure.go decides every move), its implementation
// (implementation.go), the annual work goals (SX-4) and the residents'
// ratings. Every change writes the matter's row, a step of its history, an
// audit entry and its facts in one transaction — the caller's when the
// meeting code calls the hooks below from inside the vote's transaction.

// Bounds of the input.
const (
	MaxMatterTitle = 100  // characters
	MaxMatterText  = 4000 // description, notes, reports
	MaxMatterName  = 50   // proposer's name, responsible person or body
	MaxComment     = 500  // a resident's comment
	MaxSignatures  = 10000
	MaxBudgetFen   = 100_000_000_000_00 // ¥100 billion: a typo guard, not a policy
)

// ErrAlreadyRated: the device already rated the matter this year.
var ErrAlreadyRated = errors.New("governance: already rated")

// Matter is one matter (gov_matters) going through its procedure.
type Matter struct {
	ID        int64
	Number    string // see matterNumber: YS320205001001-2026-003
	County    int64
	Division  int64  // the village
	Procedure string // the procedure's key in the village's pack
	Stage     string // the current stage (the last one once closed)
	Status    string // MatterOpen, MatterRejected, MatterDone, MatterWithdrawn
	Title     string
	// Description is what is proposed and why.
	Description string
	// Proposer is residents or the key of the proposing body kind;
	// ProposerName the lead proposer (a resident, by name) or the body.
	Proposer     string
	ProposerName string
	Signatures   int   // residents who signed the proposal
	Budget       int64 // fen
	Spent        int64 // fen, the sum of the progress reports
	Progress     int   // percent, from the progress reports
	GoalYear     int   // an annual work goal of this year (SX-4); 0: none
	// Reason is why the matter was rejected or withdrawn (published).
	Reason      string
	Responsible string // who implements (assign step)
	DueDay      int    // by when (assign step)
	ProposedDay int
	ResolvedDay int // the resolving stage passed
	ClosedDay   int // rejected, withdrawn or done
	RatingN     int // residents' scored ratings
	RatingSum   int
	CreatedAt   int64
	CreatedBy   string
	UpdatedAt   int64
}

// Open reports whether the matter is still going through its procedure.
func (m Matter) Open() bool { return m.Status == MatterOpen }

// Position is where the matter stands, for the engine.
func (m Matter) Position() Position { return Position{Stage: m.Stage, Status: m.Status} }

// Rating is the average of the residents' scored ratings (0: none).
func (m Matter) Rating() float64 {
	if m.RatingN == 0 {
		return 0
	}
	return float64(m.RatingSum) / float64(m.RatingN)
}

// RatingText is the average rating with one decimal ("" when none).
func (m Matter) RatingText() string {
	if m.RatingN == 0 {
		return ""
	}
	return strconv.FormatFloat(m.Rating(), 'f', 1, 64)
}

// Overdue reports whether the matter is being implemented past its due day.
func (m Matter) Overdue(today int) bool {
	return m.Open() && m.DueDay != 0 && today > m.DueDay && m.Progress < 100 && m.Responsible != ""
}

// Step is one entry of a matter's history (gov_matter_steps): a stage
// passed or failed at a meeting, an implementation step, the close of the
// evaluation, a withdrawal.
type Step struct {
	ID        int64
	MatterID  int64
	Stage     string // the stage it happened at
	Action    string // one of MatterActions
	MeetingID int64  // the meeting that decided it or checked the work
	AgendaID  int64
	Note      string // the resolution, the report, the comment, the reason
	Percent   int    // progress reports: the work done so far
	Spent     int64  // progress reports: money spent with this report, fen
	Public    bool   // shown on the public portal
	Day       int
	Actor     string
	CreatedAt int64
	// Meeting is the meeting with its vote's figures (steps decided at one).
	Meeting *StepMeeting
	Photos  []StepPhoto
}

// StepMeeting is the meeting a step was decided at, with its agenda item's
// figures.
type StepMeeting struct {
	ID         int64
	Title      string
	Day        int
	BodyKind   string
	BodyName   string
	Members    int
	Present    int
	Result     string
	For        int
	Against    int
	Abstain    int
	Resolution string
}

// StepPhoto is a photo of a step (gov_step_photos), sealed on disk.
type StepPhoto struct {
	ID     int64
	StepID int64
	Path   string
	Mime   string
	Size   int64
}

// Rating is a resident's rating (Score 1–5) or comment (Score 0).
type Rating struct {
	ID        int64
	MatterID  int64
	Year      int
	Score     int
	Comment   string
	Day       int
	CreatedAt int64
}

// AgendaRef is an undecided agenda item naming a matter: the matter is on
// the agenda of that meeting.
type AgendaRef struct {
	AgendaID  int64
	Stage     string
	MeetingID int64
	Title     string
	Day       int
	State     string
	BodyKind  string
	BodyName  string
}

// MatterInput is what proposing a matter takes.
type MatterInput struct {
	// Village is where the matter is proposed (a grid stands for its
	// village); the principal needs governance.manage there.
	Village int64
	// Procedure is a procedure key of the village's pack ("": the first).
	Procedure   string
	Title       string
	Description string
	// Proposer is residents or a body kind the procedure's propose stage
	// lists; ProposerName the lead proposer (required for residents) or
	// the body's name.
	Proposer     string
	ProposerName string
	// Signatures is the number of residents who signed (residents).
	Signatures int
	// Budget in yuan ("12000", "3,500.50"; "" for none).
	Budget string
	// GoalYear makes the matter an annual work goal of that year (0: not).
	GoalYear int
}

// procedureOf returns the procedure a matter follows (a refusal when its
// pack no longer has it).
func (s *Service) procedureOf(m Matter) (policy.Procedure, error) {
	pr, ok := s.Rules(m.Division).Procedure(m.Procedure)
	if !ok {
		return policy.Procedure{}, &ProcedureError{Code: RefuseNoProcedure, Procedure: m.Procedure, At: m.Stage, Status: m.Status}
	}
	return pr, nil
}

// Propose records a proposed matter at in.Village: the procedure's propose
// stage checks who proposes and how many signed, and passes at once, so
// the matter waits at the next stage. Problems of the input are returned
// together as field.Errors (village, procedure, title, description,
// proposer, proposer_name, signatures, budget, goal_year) and nothing is
// stored then. The matter, its first step, its facts and its audit entry
// commit together; the number is drawn last.
func (s *Service) Propose(ctx context.Context, p *access.Principal, in MatterInput) (Matter, error) {
	village, ok := VillageOf(in.Village)
	if !ok {
		if !p.CanAt(PermManage, in.Village) {
			return Matter{}, ErrForbidden
		}
		return Matter{}, field.Errors{{Field: "village", Code: "village_level"}}
	}
	if !p.CanAt(PermManage, village) {
		return Matter{}, ErrForbidden
	}
	if _, err := s.Divisions.Get(ctx, village); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return Matter{}, field.Errors{{Field: "village", Code: "village_unknown"}}
		}
		return Matter{}, err
	}
	now := s.now()
	today := s.Today()
	m := Matter{County: ids.County(village), Division: village, Status: MatterOpen, Title: strings.TrimSpace(in.Title),
		Description: strings.TrimSpace(in.Description), Proposer: strings.TrimSpace(in.Proposer),
		ProposerName: strings.TrimSpace(in.ProposerName), Signatures: in.Signatures, GoalYear: in.GoalYear,
		ProposedDay: today, CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p), UpdatedAt: now.UnixMilli()}
	var es field.Errors
	rules := s.Rules(village)
	pr, ok := rules.Procedure(strings.TrimSpace(in.Procedure))
	switch {
	case rules == nil || len(rules.Procedures) == 0:
		es.Add("procedure", "no_procedure")
	case !ok:
		es.Add("procedure", "procedure_unknown")
	}
	m.Procedure = pr.Key
	checkMatterText(&es, "title", m.Title, MaxMatterTitle, true)
	checkMatterText(&es, "description", m.Description, MaxMatterText, true)
	if m.Proposer == "" {
		es.Add("proposer", "required")
	}
	if m.Proposer == policy.ProposerResidents && m.ProposerName == "" {
		es.Add("proposer_name", "required")
	}
	if m.ProposerName == "" && m.Proposer != "" {
		if b, ok := rules.Body(m.Proposer); ok {
			m.ProposerName = b.Label.Get(policy.DefaultLocale)
		}
	}
	checkMatterText(&es, "proposer_name", m.ProposerName, MaxMatterName, false)
	if m.Signatures < 0 || m.Signatures > MaxSignatures {
		es.Add("signatures", "signatures_range", strconv.Itoa(MaxSignatures))
	}
	if m.Proposer != policy.ProposerResidents {
		m.Signatures = 0
	}
	budget, ok := ParseYuan(in.Budget)
	if !ok {
		es.Add("budget", "money")
	}
	m.Budget = budget
	if y := today / 10000; m.GoalYear != 0 && (m.GoalYear < y-1 || m.GoalYear > y+1) {
		es.Add("goal_year", "goal_year")
	}
	var mv Move
	if pr.Key != "" && m.Proposer != "" {
		var err error
		mv, err = Transition(pr, Position{}, MatterEvent{Action: ActPropose, Proposer: m.Proposer, Signatures: m.Signatures})
		var pe *ProcedureError
		switch {
		case errors.As(err, &pe) && pe.Code == RefuseProposer:
			es.Add("proposer", "proposer")
		case errors.As(err, &pe) && pe.Code == RefuseSignatures:
			es.Add("signatures", "signatures", strconv.Itoa(pe.Need))
		case err != nil:
			es.Add("procedure", "procedure_unknown")
		}
	}
	if err := es.Err(); err != nil {
		return Matter{}, err
	}
	m.Stage, m.Status = mv.To.Stage, mv.To.Status
	st := s.matters()
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		m.Number = provisionalMatterNumber()
		if err := st.insert(ctx, &m); err != nil {
			return err
		}
		step := Step{MatterID: m.ID, Stage: mv.Passed, Action: ActPropose, Public: true, Day: today,
			Actor: m.CreatedBy, CreatedAt: m.CreatedAt}
		if err := st.insertStep(ctx, &step); err != nil {
			return err
		}
		deltas := append([]facts.Delta{{Division: village, Period: period(today), Metric: MetricMattersOpened, N: 1}},
			moveFacts(village, today, mv)...)
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		n, err := st.nextNumber(ctx, village, today/10000)
		if err != nil {
			return err
		}
		m.Number = matterNumber(village, today/10000, n)
		if err := st.setNumber(ctx, m.ID, m.Number); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "matter", EntityID: strconv.FormatInt(m.ID, 10),
			Division: village, Changes: []audit.Change{{Field: "number", After: m.Number}, {Field: "procedure", After: m.Procedure},
				{Field: "stage", After: m.Stage}, {Field: "proposer", After: m.Proposer}, {Field: "signatures", After: m.Signatures},
				{Field: "budget", After: m.Budget}, {Field: "goal_year", After: m.GoalYear}}})
	})
	if err != nil {
		return Matter{}, err
	}
	return m, nil
}

// moveFacts are the facts a move counts at the village in the month of day:
// the resolving stage passed, the matter rejected, the matter done.
func moveFacts(village int64, day int, mv Move) []facts.Delta {
	var out []facts.Delta
	add := func(metric string) {
		out = append(out, facts.Delta{Division: village, Period: period(day), Metric: metric, N: 1})
	}
	if mv.Resolved {
		add(MetricMattersPassed)
	}
	if mv.From.Status == MatterOpen && mv.To.Status == MatterRejected {
		add(MetricMattersReject)
	}
	if mv.Done() {
		add(MetricMattersDone)
	}
	return out
}

// applyMove sets the matter's stage and status after mv on day.
func applyMove(m *Matter, mv Move, day int) {
	m.Stage, m.Status = mv.To.Stage, mv.To.Status
	if mv.Resolved {
		m.ResolvedDay = day
	}
	if mv.From.Status == MatterOpen && mv.To.Status != MatterOpen {
		m.ClosedDay = day
	}
}

// saveMove writes a changed matter, its step (when not nil), the facts of
// the move and the audit entry, in the context's transaction.
func (s *Service) saveMove(ctx context.Context, before, m Matter, mv Move, step *Step, extra []facts.Delta, changes []audit.Change) error {
	st := s.matters()
	m.UpdatedAt = s.now().UnixMilli()
	if err := st.update(ctx, m); err != nil {
		return err
	}
	day := s.Today()
	if step != nil {
		step.MatterID = m.ID
		if step.CreatedAt == 0 {
			step.CreatedAt = m.UpdatedAt
		}
		if err := st.insertStep(ctx, step); err != nil {
			return err
		}
		day = step.Day
	}
	if err := facts.AddAll(ctx, s.DB, append(moveFacts(m.Division, day, mv), extra...)); err != nil {
		return err
	}
	if before.Stage != m.Stage {
		changes = append(changes, audit.Change{Field: "stage", Before: before.Stage, After: m.Stage})
	}
	if before.Status != m.Status {
		changes = append(changes, audit.Change{Field: "status", Before: before.Status, After: m.Status})
	}
	action := ""
	if step != nil {
		action = step.Action
	}
	return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "matter", EntityID: strconv.FormatInt(m.ID, 10),
		Division: m.Division, Changes: append([]audit.Change{{Field: "action", After: action}}, changes...)})
}

// Matter returns a matter the principal may see (governance.view at its
// village); anything else is db.ErrNotFound, and a matter outside the
// principal's scope is audited as denied.
func (s *Service) Matter(ctx context.Context, p *access.Principal, id int64) (Matter, error) {
	m, err := s.matters().byID(ctx, id)
	if err != nil {
		return Matter{}, err
	}
	return s.seeMatter(ctx, p, m)
}

// MatterByNumber returns a matter by its number, like Matter.
func (s *Service) MatterByNumber(ctx context.Context, p *access.Principal, number string) (Matter, error) {
	m, err := s.matters().byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return Matter{}, err
	}
	return s.seeMatter(ctx, p, m)
}

func (s *Service) seeMatter(ctx context.Context, p *access.Principal, m Matter) (Matter, error) {
	if !p.CanAt(PermView, m.Division) {
		s.deny(ctx, "matter", m.ID, m.Division)
		return Matter{}, db.ErrNotFound
	}
	return m, nil
}

// MatterSteps returns a matter's history (every step, public or not) with
// the meetings and photos, oldest first; the principal must see the matter.
func (s *Service) MatterSteps(ctx context.Context, p *access.Principal, id int64) ([]Step, error) {
	m, err := s.Matter(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.matters().steps(ctx, m.ID, false)
}

// MatterRatings returns a matter's latest ratings and comments (at most
// limit), newest first; the principal must see the matter.
func (s *Service) MatterRatings(ctx context.Context, p *access.Principal, id int64, limit int) ([]Rating, error) {
	m, err := s.Matter(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.matters().ratings(ctx, m.ID, max(1, min(limit, 500)))
}

// MatterAgenda lists the meetings whose agenda holds the matter undecided;
// the principal must see the matter.
func (s *Service) MatterAgenda(ctx context.Context, p *access.Principal, id int64) ([]AgendaRef, error) {
	m, err := s.Matter(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.matters().pendingAgenda(ctx, m.ID)
}

// MatterFilter selects matters for a list.
type MatterFilter struct {
	Unit     int64  // restrict to a subtree (0: everything the principal sees)
	Stage    string // a stage key ("": any)
	Status   string // one of MatterStatuses ("": any)
	GoalYear int    // annual work goals of this year (0: any matter)
	Q        string // a number (prefix) or words of the title
	Offset   int
	Limit    int // default 50, at most 500
}

// MatterList is one page of matters, newest first.
type MatterList struct {
	Matters []Matter
	More    bool
}

// Matters lists the matters the principal sees (governance.view at their
// village), newest first.
func (s *Service) Matters(ctx context.Context, p *access.Principal, f MatterFilter) (MatterList, error) {
	w, args := p.Where(PermView, "division")
	conds := []string{w}
	if f.Unit > 0 {
		lo, hi := ids.Subtree(f.Unit)
		conds = append(conds, "division BETWEEN ? AND ?")
		args = append(args, lo, hi)
	}
	if f.Stage != "" {
		conds = append(conds, "stage = ?")
		args = append(args, f.Stage)
	}
	if f.Status != "" {
		conds = append(conds, "status = ?")
		args = append(args, f.Status)
	}
	if f.GoalYear != 0 {
		conds = append(conds, "goal_year = ?")
		args = append(args, f.GoalYear)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		e := escapeMatterLike(q)
		conds = append(conds, `(number LIKE ? ESCAPE '\' OR title LIKE ? ESCAPE '\')`)
		args = append(args, e+"%", "%"+e+"%")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	ms, err := s.matters().list(ctx, strings.Join(conds, " AND "), args, "id DESC", limit+1, max(f.Offset, 0))
	if err != nil {
		return MatterList{}, err
	}
	out := MatterList{Matters: ms}
	if len(ms) > limit {
		out.Matters, out.More = ms[:limit], true
	}
	return out, nil
}

// MattersAwaiting lists the open matters of a village whose current stage
// is a meeting stage of bodyKind — those a meeting of such a body may put
// on its agenda — oldest first.
func (s *Service) MattersAwaiting(ctx context.Context, p *access.Principal, village int64, bodyKind string) ([]Matter, error) {
	if !p.CanAt(PermView, village) {
		return nil, nil
	}
	g := s.Rules(village)
	if g == nil {
		return nil, nil
	}
	var conds []string
	args := []any{village, MatterOpen}
	for _, pr := range g.Procedures {
		for _, st := range pr.Stages {
			if st.Kind == policy.StageMeeting && st.Body == bodyKind {
				conds = append(conds, "(procedure_key = ? AND stage = ?)")
				args = append(args, pr.Key, st.Key)
			}
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	return s.matters().list(ctx, "division = ? AND status = ? AND ("+strings.Join(conds, " OR ")+")", args, "id", 200, 0)
}

func escapeMatterLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// agendaMatter checks that matter id may be put on the agenda of meeting m
// of body b (the matter is of the meeting's village, open, and its current
// stage is a meeting stage of b's kind) and returns that stage's key. A
// matter of another village is db.ErrNotFound; a matter at another stage
// or for another body is a *ProcedureError (out_of_order, wrong_body,
// closed).
func (s *Service) agendaMatter(ctx context.Context, m Meeting, b Body, id int64) (stage string, err error) {
	mt, err := s.matters().byID(ctx, id)
	if err != nil {
		return "", err
	}
	if mt.Division != m.Division {
		return "", db.ErrNotFound
	}
	pr, err := s.procedureOf(mt)
	if err != nil {
		return "", err
	}
	// A meeting of a body that decides another stage names that stage, so
	// the refusal reads "the matter is at 商议, not 决议".
	ev := MatterEvent{Action: ActAgenda, Body: b.Kind}
	if st, i, ok := pr.Stage(mt.Stage); ok && st.Body != b.Kind {
		for j := range pr.Stages {
			k := (i + 1 + j) % len(pr.Stages) // the stages after the current one first
			if o := pr.Stages[k]; o.Kind == policy.StageMeeting && o.Body == b.Kind {
				ev.Stage = o.Key
				break
			}
		}
	}
	if _, err := Transition(pr, mt.Position(), ev); err != nil {
		return "", err
	}
	return mt.Stage, nil
}

// matterVoted is called by the meeting code, inside the transaction that
// records a vote on an agenda item linked to a matter (item.MatterID != 0),
// with the computed outcome: it moves the matter on (passed), ends it with
// its reason (failed: the resolution, else the vote's figures), or leaves
// it (no quorum: nothing may be resolved; the attempt is kept in the
// history). The vote must be of a meeting of the matter's village and of
// the body its current stage names, on an item linked at that stage; else
// a *ProcedureError refuses it, and the vote with it.
func (s *Service) matterVoted(ctx context.Context, m Meeting, item AgendaItem, o Outcome) error {
	act := VoteAction(o.Result)
	if act == "" || item.MatterID == 0 {
		return nil
	}
	st := s.matters()
	mt, err := st.lock(ctx, item.MatterID)
	if err != nil {
		return err
	}
	if mt.Division != m.Division {
		return db.ErrNotFound
	}
	kind := m.BodyKind
	if kind == "" {
		if kind, err = st.bodyKind(ctx, m.BodyID); err != nil {
			return err
		}
	}
	pr, err := s.procedureOf(mt)
	if err != nil {
		return err
	}
	mv, err := Transition(pr, mt.Position(), MatterEvent{Action: act, Stage: item.Stage, Body: kind})
	if err != nil {
		return err
	}
	day := item.DecidedDay
	if day == 0 {
		day = m.Day
	}
	if day == 0 {
		day = s.Today()
	}
	before := mt
	applyMove(&mt, mv, day)
	step := Step{Stage: item.Stage, Action: act, MeetingID: m.ID, AgendaID: item.ID, Note: strings.TrimSpace(item.Resolution),
		Public: true, Day: day, Actor: actorName(ctx, nil)}
	changes := []audit.Change{{Field: "meeting", After: m.ID}, {Field: "agenda", After: item.ID}, {Field: "result", After: o.Result}}
	if act == ActReject {
		mt.Reason = step.Note
		if mt.Reason == "" {
			mt.Reason = s.failedReason(mt, kind, m, item, o)
		}
		changes = append(changes, audit.Change{Field: "reason", After: mt.Reason})
	}
	return s.saveMove(ctx, before, mt, mv, &step, nil, changes)
}

// failedReason is the published reason of a matter voted down without a
// resolution text: the vote's figures, in the default locale.
func (s *Service) failedReason(mt Matter, kind string, m Meeting, item AgendaItem, o Outcome) string {
	body := m.BodyName
	if b, ok := s.Rules(mt.Division).Body(kind); ok && body == "" {
		body = b.Label.Get(policy.DefaultLocale)
	}
	return i18n.T(policy.DefaultLocale, "gov.matter.reason_failed", body, m.Present, m.Members, item.For, item.Against,
		item.Abstain, o.NeedFor)
}

// checkMatterText checks a free text: required (when need) and at most max
// characters.
func checkMatterText(es *field.Errors, name, v string, max int, need bool) {
	switch {
	case v == "" && need:
		es.Add(name, "required")
	case utf8.RuneCountInString(v) > max:
		es.Add(name, "too_long", strconv.Itoa(max))
	}
}

// ParseYuan reads an amount of money in yuan as people type it ("12000",
// "3,500.5", "¥800", "800元"; "" and 0 are 0) as fen (money.Parse); ok is
// false for anything else, a negative amount or one over MaxBudgetFen.
func ParseYuan(s string) (fen int64, ok bool) {
	fen, code := money.Parse(s)
	switch code {
	case "":
		return fen, fen <= MaxBudgetFen
	case money.Required, money.Zero:
		return 0, true
	}
	return 0, false
}

// FormatYuan writes fen as yuan with thousands separators: 1234550 →
// "12,345.50" (whole yuan without decimals: "12,345").
func FormatYuan(fen int64) string { return strings.TrimSuffix(money.Format(fen), ".00") }

// GoalList is a village's annual work goals (SX-4) of a year: the matters
// with that goal year, with the pack's target ("32 项中 12 项已完成").
type GoalList struct {
	Village int64
	Year    int
	Target  int // the pack's GoalsTarget (0: none)
	Matters []Matter
	Done    int   // through every stage
	Budget  int64 // fen, of every goal
	Spent   int64
}

// goalList sums a year's goals.
func goalList(village int64, year, target int, ms []Matter) GoalList {
	g := GoalList{Village: village, Year: year, Target: target, Matters: ms}
	for _, m := range ms {
		if m.Status == MatterDone {
			g.Done++
		}
		g.Budget += m.Budget
		g.Spent += m.Spent
	}
	return g
}

// Goals returns a village's annual work goals of year (the public portal's
// read: no principal), in the order they were proposed; withdrawn matters
// are left out.
func (s *Service) Goals(ctx context.Context, village int64, year int) ([]Matter, error) {
	return s.matters().list(ctx, "division = ? AND goal_year = ? AND status <> ?", []any{village, year, MatterWithdrawn}, "id", 0, 0)
}

// GoalsFor returns a village's annual work goals of year with their sums,
// for a principal who sees the village.
func (s *Service) GoalsFor(ctx context.Context, p *access.Principal, village int64, year int) (GoalList, error) {
	if !p.CanAt(PermView, village) {
		s.deny(ctx, "village", village, village)
		return GoalList{}, db.ErrNotFound
	}
	ms, err := s.Goals(ctx, village, year)
	if err != nil {
		return GoalList{}, err
	}
	target := 0
	if g := s.Rules(village); g != nil {
		target = g.GoalsTarget
	}
	return goalList(village, year, target, ms), nil
}

// PublicMatters returns a village's matters for its public page, newest
// first: year 0 gives every open matter and those closed in the last 12
// months; a year those proposed or closed in it.
func (s *Service) PublicMatters(ctx context.Context, village int64, year int) ([]Matter, error) {
	if year == 0 {
		since := calendar.AddDays(s.Today(), -365)
		return s.matters().list(ctx, "division = ? AND (status = ? OR closed_day >= ?)", []any{village, MatterOpen, since}, "id DESC", 500, 0)
	}
	lo, hi := year*10000+101, year*10000+1231
	return s.matters().list(ctx, "division = ? AND (proposed_day BETWEEN ? AND ? OR closed_day BETWEEN ? AND ?)",
		[]any{village, lo, hi, lo, hi}, "id DESC", 500, 0)
}

// PublicMatter returns a matter of village by its number with its public
// steps (and their photos), for the public page; a matter of another
// village is db.ErrNotFound.
func (s *Service) PublicMatter(ctx context.Context, village int64, number string) (Matter, []Step, error) {
	m, err := s.matters().byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return Matter{}, nil, err
	}
	if m.Division != village {
		return Matter{}, nil, db.ErrNotFound
	}
	steps, err := s.matters().steps(ctx, m.ID, true)
	return m, steps, err
}

// PublicPhoto reads and decrypts a photo of a public step of one of
// village's matters; anything else is db.ErrNotFound.
func (s *Service) PublicPhoto(ctx context.Context, village int64, photoID int64) (mime string, data []byte, err error) {
	ph, matterID, public, err := s.matters().photo(ctx, photoID)
	if err != nil {
		return "", nil, err
	}
	m, err := s.matters().byID(ctx, matterID)
	if err != nil {
		return "", nil, err
	}
	if !public || m.Division != village {
		return "", nil, db.ErrNotFound
	}
	data, err = s.Files.Open(ph.Path)
	return ph.Mime, data, err
}

// RefusalText writes a refusal of the procedure as people read it, in
// locale, naming the stages and bodies by the labels of g (the rules of
// the matter's village): "该事项正处于“商议”阶段，不是“决议”阶段".
func RefusalText(locale string, g *policy.Governance, e *ProcedureError) string {
	pr, _ := g.Procedure(e.Procedure)
	stage := func(key string) string {
		if st, _, ok := pr.Stage(key); ok {
			return st.Label.Get(locale)
		}
		return key
	}
	switch e.Code {
	case RefuseOutOfOrder:
		if e.Want == "" {
			return i18n.T(locale, "gov.matter.refuse.out_of_order_none", stage(e.At))
		}
		return i18n.T(locale, "gov.matter.refuse.out_of_order", stage(e.At), stage(e.Want))
	case RefuseWrongBody:
		body := e.Body
		if b, ok := g.Body(e.Body); ok {
			body = b.Label.Get(locale)
		}
		return i18n.T(locale, "gov.matter.refuse.wrong_body", stage(e.At), body)
	case RefuseClosed:
		return i18n.T(locale, "gov.matter.refuse.closed", i18n.T(locale, "gov.matter.status."+e.Status))
	case RefuseSignatures:
		return i18n.T(locale, "gov.matter.refuse.signatures", e.Need)
	case RefuseNotAssigned, RefuseAssigned, RefuseStep, RefuseNoProcedure, RefuseUnknownStage, RefuseProposer, RefuseAction:
		return i18n.T(locale, "gov.matter.refuse."+e.Code)
	}
	return e.Error()
}

// RefuseCodes lists every refusal code (the catalogue carries
// gov.matter.refuse.<code> for each, and out_of_order_none).
var RefuseCodes = []string{RefuseNoProcedure, RefuseUnknownStage, RefuseClosed, RefuseOutOfOrder, RefuseWrongBody,
	RefuseProposer, RefuseSignatures, RefuseAction, RefuseNotAssigned, RefuseAssigned, RefuseStep}
