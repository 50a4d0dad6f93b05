package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Dispute is a dispute brought to a people's mediation committee (人民调解).
// Personal data is masked.
type Dispute struct {
	Number      string           `json:"number" doc:"Dispute number: the mediating unit's 12-digit code, TJ and the day of registration, and the day's sequence" example:"320205001001-TJ20260930-0001"`
	Unit        string           `json:"unit" doc:"15-digit code of the village or township whose mediation committee mediates (its figures count there)" example:"320205001001000"`
	Type        string           `json:"type" doc:"A dispute type of the unit's policy pack" example:"neighbour"`
	TypeName    string           `json:"type_name" example:"邻里纠纷"`
	Summary     string           `json:"summary" doc:"The facts and what is in dispute"`
	State       string           `json:"state" enum:"open,settled,failed,referred,withdrawn" doc:"open (调解中), settled (调解成功), failed (调解不成), referred (移交), withdrawn (撤回)"`
	Mediators   []string         `json:"mediators" nullable:"false"`
	IncidentID  int64            `json:"incident_id,omitempty" doc:"The grid incident the dispute came from"`
	OpenedDay   string           `json:"opened_day" format:"date"`
	ClosedDay   string           `json:"closed_day,omitempty" format:"date"`
	Outcome     string           `json:"outcome,omitempty" doc:"The result of a settlement, or why the dispute failed, was referred or withdrawn"`
	Agreement   string           `json:"agreement,omitempty" doc:"The terms of the settlement agreement (settled)"`
	Performance string           `json:"performance,omitempty" doc:"How and by when the terms are carried out (settled)"`
	ReferredTo  string           `json:"referred_to,omitempty" doc:"The court or department the dispute was referred to (referred)"`
	Parties     []DisputeParty   `json:"parties" nullable:"false"`
	Sessions    []DisputeSession `json:"sessions,omitempty" doc:"Mediation sessions, oldest first (GET and actions only; absent when none)"`
	Visits      []DisputeVisit   `json:"visits,omitempty" doc:"Follow-up visits after the settlement (GET and actions only; absent when none)"`
	CreatedBy   string           `json:"created_by"`
	CreatedAt   string           `json:"created_at" format:"date-time"`
	UpdatedAt   string           `json:"updated_at" format:"date-time"`
}

// DisputeParty is a party of a dispute.
type DisputeParty struct {
	Side        string `json:"side" enum:"applicant,respondent,other"`
	ResidentID  int64  `json:"resident_id,omitempty" doc:"The party in the registry; absent for an outsider"`
	Name        string `json:"name"`
	Gender      string `json:"gender,omitempty" enum:"M,F"`
	IDMasked    string `json:"id_masked,omitempty" example:"320205********123X"`
	PhoneMasked string `json:"phone_masked,omitempty" example:"139****5678"`
	Address     string `json:"address,omitempty"`
}

// DisputeSession is one mediation session.
type DisputeSession struct {
	Day       string   `json:"day" format:"date"`
	Place     string   `json:"place,omitempty"`
	Mediators []string `json:"mediators" nullable:"false"`
	Note      string   `json:"note"`
	Actor     string   `json:"actor" doc:"Who recorded it"`
}

// DisputeVisit is one follow-up visit after a settlement.
type DisputeVisit struct {
	Day     string `json:"day" format:"date"`
	Holding bool   `json:"holding" doc:"The agreement is being kept"`
	Note    string `json:"note"`
	Actor   string `json:"actor"`
}

func (s *server) toDispute(d mediation.Dispute) Dispute {
	out := Dispute{Number: d.Number, Unit: codeString(d.Division), Type: d.Type,
		TypeName: s.Mediation.TypeLabel(d.Division, d.Type, policy.DefaultLocale), Summary: d.Summary, State: d.State,
		Mediators: d.Mediators, IncidentID: d.IncidentID, OpenedDay: mediation.FormatDay(d.OpenedDay), ClosedDay: mediation.FormatDay(d.ClosedDay),
		Outcome: d.Outcome, Agreement: d.Agreement, Performance: d.Performance, ReferredTo: d.ReferredTo, CreatedBy: d.CreatedBy,
		CreatedAt: timeString(d.CreatedAt), UpdatedAt: timeString(d.UpdatedAt), Parties: make([]DisputeParty, 0, len(d.Parties))}
	if out.Mediators == nil {
		out.Mediators = []string{}
	}
	for _, p := range d.Parties {
		out.Parties = append(out.Parties, DisputeParty{Side: p.Side, ResidentID: p.ResidentID, Name: p.Name, Gender: p.Gender,
			IDMasked: p.IDMasked, PhoneMasked: p.PhoneMasked, Address: p.Address})
	}
	for _, se := range d.Sessions {
		m := se.Mediators
		if m == nil {
			m = []string{}
		}
		out.Sessions = append(out.Sessions, DisputeSession{Day: mediation.FormatDay(se.Day), Place: se.Place, Mediators: m, Note: se.Note, Actor: se.Actor})
	}
	for _, v := range d.Visits {
		out.Visits = append(out.Visits, DisputeVisit{Day: mediation.FormatDay(v.Day), Holding: v.Holding, Note: v.Note, Actor: v.Actor})
	}
	return out
}

// disputeError translates mediation's errors: invalid input is 422 with
// the first field and code (the message lists every problem; the fields are
// the request's properties, e.g. parties[1].id_number), an action the
// dispute's state does not allow 409, a dispute seen but not to be changed
// (or a unit where the caller may not register) 403.
func disputeError(err error) error {
	var es field.Errors
	var te *mediation.TransitionError
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
	case errors.As(err, &te):
		return &Error{Status: http.StatusConflict, Code: CodeTransition, Message: te.Action + " is not allowed in state " + te.State}
	case errors.Is(err, mediation.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// NewDispute is a dispute registered at a mediation committee.
type NewDispute struct {
	Unit       string            `json:"unit" pattern:"^([0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Code of the township or village whose committee mediates (a grid stands for its village); the caller needs mediation.manage there" example:"320205001001"`
	Type       string            `json:"type" maxLength:"64" doc:"A dispute type of the unit's policy pack" example:"neighbour"`
	Summary    string            `json:"summary" maxLength:"16000" doc:"The facts and what is in dispute (required)"`
	Mediators  []string          `json:"mediators" maxItems:"20" doc:"The mediators' names (at least one)"`
	IncidentID int64             `json:"incident_id,omitempty" minimum:"0" doc:"The grid incident the dispute came from"`
	Parties    []NewDisputeParty `json:"parties" maxItems:"50" doc:"At least one applicant and one respondent"`
}

// NewDisputeParty is a party as registered: a resident (resident_id; name,
// gender, masked ID number and phone come from the registry) or an outsider.
type NewDisputeParty struct {
	Side       string `json:"side" enum:"applicant,respondent,other"`
	ResidentID int64  `json:"resident_id,omitempty" minimum:"0" doc:"The party in the registry (the caller must see the resident); else give name"`
	Name       string `json:"name,omitempty" maxLength:"200" doc:"An outsider's name"`
	Gender     string `json:"gender,omitempty" enum:"M,F" doc:"An outsider's gender (from the ID number when absent)"`
	IDNumber   string `json:"id_number,omitempty" maxLength:"64" doc:"An outsider's citizen ID number (optional; stored encrypted, shown masked)"`
	Phone      string `json:"phone,omitempty" maxLength:"64" doc:"Contact phone (optional; a resident's defaults to the registry's)"`
	Address    string `json:"address,omitempty" maxLength:"1000" doc:"A resident's defaults to the household's"`
}

type createDisputeIn struct{ Body NewDispute }

type createdDisputeOut struct {
	Location string `header:"Location"`
	Body     Dispute
}

type disputeOut struct{ Body Dispute }

type disputePath struct {
	Number string `path:"number" pattern:"^[0-9]{12}-TJ[0-9]{8}-[0-9]{4,}$" doc:"Dispute number" example:"320205001001-TJ20260930-0001"`
}

type disputesIn struct {
	State     string `query:"state" enum:"open,settled,failed,referred,withdrawn" doc:"Only disputes in this state"`
	Type      string `query:"type" maxLength:"64" doc:"Only disputes of this type"`
	Unvisited bool   `query:"unvisited" doc:"Only settled disputes without a follow-up visit yet"`
	Unit      string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only disputes of this subtree (inside the caller's mediation.view scope)"`
	Q         string `query:"q" maxLength:"100" doc:"A dispute number (prefix), a party's name (prefix) or words of the summary"`
	Limit     int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
	Offset    int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// DisputeList is one page of disputes, newest first.
type DisputeList struct {
	Items []Dispute `json:"items" nullable:"false"`
	More  bool      `json:"more" doc:"More disputes follow: ask again with offset + limit"`
}

type disputesOut struct{ Body DisputeList }

// DisputeAction is one step on a dispute.
type DisputeAction struct {
	Kind        string   `json:"kind" enum:"session,settle,fail,refer,withdraw,visit" doc:"session (调解记录: note required), settle (调解成功: outcome, agreement and performance required), fail (调解不成: note, the reason), refer (移交: referred_to and note), withdraw (撤回: note), visit (回访 after a settlement: holding and note)"`
	Day         string   `json:"day,omitempty" format:"date" doc:"session, visit: the day (default today); not in the future, not before the registration (session) or the settlement (visit)"`
	Place       string   `json:"place,omitempty" maxLength:"1000" doc:"session: where"`
	Mediators   []string `json:"mediators,omitempty" maxItems:"20" doc:"session: who mediated (default the dispute's mediators)"`
	Note        string   `json:"note,omitempty" maxLength:"16000" doc:"session: what happened; visit: the findings; fail, refer, withdraw: the reason"`
	Outcome     string   `json:"outcome,omitempty" maxLength:"4000" doc:"settle: the result"`
	Agreement   string   `json:"agreement,omitempty" maxLength:"16000" doc:"settle: the agreed terms"`
	Performance string   `json:"performance,omitempty" maxLength:"16000" doc:"settle: how and by when the terms are carried out"`
	ReferredTo  string   `json:"referred_to,omitempty" maxLength:"1000" doc:"refer: the court or department"`
	Holding     *bool    `json:"holding,omitempty" doc:"visit: whether the agreement is being kept (required)"`
}

type disputeActionIn struct {
	Number string `path:"number" pattern:"^[0-9]{12}-TJ[0-9]{8}-[0-9]{4,}$" doc:"Dispute number" example:"320205001001-TJ20260930-0001"`
	Body   DisputeAction
}

func (s *server) registerDisputes(a huma.API) {
	tags := []string{"disputes"}
	create := op("create-dispute", http.MethodPost, "/disputes", "Register a dispute at a people's mediation committee", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	create.Description = "The caller needs mediation.manage at the unit. Every problem of the input is checked at once; the first " +
		"is the error's field and code (e.g. type type_unknown, parties parties_min, parties[1].id_number id_checksum) and the " +
		"message lists them all. Nothing is stored then."
	huma.Register(a, create, s.createDispute)
	huma.Register(a, op("get-dispute", http.MethodGet, "/disputes/{number}", "A dispute the caller sees (mediation.view at its unit), with its sessions and visits", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getDispute)
	huma.Register(a, op("list-disputes", http.MethodGet, "/disputes", "Disputes in the caller's mediation.view scope, newest first", tags,
		http.StatusUnprocessableEntity), s.listDisputes)
	act := op("act-on-dispute", http.MethodPost, "/disputes/{number}/actions", "Take one step on a dispute", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity)
	act.MaxBodyBytes = maxBody
	act.Description = "Needs mediation.manage at the dispute's unit. Sessions and the closing actions (settle, fail, refer, withdraw) " +
		"only while the dispute is open, visits only after a settlement; anything else is 409 transition_not_allowed. " +
		"Returns the dispute as it is now."
	huma.Register(a, act, s.actOnDispute)
}

func (s *server) createDispute(ctx context.Context, in *createDisputeIn) (*createdDisputeOut, error) {
	if s.Mediation == nil {
		return nil, notFound()
	}
	b := in.Body
	unit, err := parseCode(b.Unit)
	if err != nil {
		return nil, invalid("unit", CodeInvalid, err.Error())
	}
	mi := mediation.Input{Unit: unit, Type: b.Type, Summary: b.Summary, Mediators: b.Mediators, IncidentID: b.IncidentID}
	for _, p := range b.Parties {
		mi.Parties = append(mi.Parties, mediation.PartyInput{Side: p.Side, ResidentID: p.ResidentID, Name: p.Name, Gender: p.Gender,
			IDNumber: p.IDNumber, Phone: p.Phone, Address: p.Address})
	}
	d, err := s.Mediation.Register(ctx, access.From(ctx), mi)
	if err != nil {
		return nil, disputeError(err)
	}
	return &createdDisputeOut{Location: Prefix + "/disputes/" + d.Number, Body: s.toDispute(d)}, nil
}

func (s *server) getDispute(ctx context.Context, in *disputePath) (*disputeOut, error) {
	if s.Mediation == nil {
		return nil, notFound()
	}
	d, err := s.Mediation.ByNumber(ctx, access.From(ctx), in.Number)
	if err != nil {
		return nil, disputeError(err)
	}
	return &disputeOut{Body: s.toDispute(d)}, nil
}

func (s *server) listDisputes(ctx context.Context, in *disputesIn) (*disputesOut, error) {
	if s.Mediation == nil {
		return nil, notFound()
	}
	f := mediation.Filter{State: in.State, Type: in.Type, Unvisited: in.Unvisited, Q: in.Q, Limit: in.Limit, Offset: in.Offset}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		f.Unit = code
	}
	list, err := s.Mediation.List(ctx, access.From(ctx), f)
	if err != nil {
		return nil, disputeError(err)
	}
	out := &disputesOut{Body: DisputeList{Items: make([]Dispute, 0, len(list.Disputes)), More: list.More}}
	for _, d := range list.Disputes {
		out.Body.Items = append(out.Body.Items, s.toDispute(d))
	}
	return out, nil
}

func (s *server) actOnDispute(ctx context.Context, in *disputeActionIn) (*disputeOut, error) {
	if s.Mediation == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	d, err := s.Mediation.ByNumber(ctx, p, in.Number)
	if err != nil {
		return nil, disputeError(err)
	}
	b := in.Body
	d, err = s.Mediation.Do(ctx, p, d.ID, mediation.Action{Kind: b.Kind, Day: b.Day, Place: b.Place, Mediators: b.Mediators, Note: b.Note,
		Outcome: b.Outcome, Agreement: b.Agreement, Performance: b.Performance, ReferredTo: b.ReferredTo, Holding: b.Holding})
	if err != nil {
		return nil, disputeError(err)
	}
	return &disputeOut{Body: s.toDispute(d)}, nil
}
