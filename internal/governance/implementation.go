package governance

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/sealed"
)

// Implementation (四步, SX-3) once a matter reaches its implement stage:
// the party organisation assigns it (who, by when: once), the management
// committee implements it (progress reports with the work done, the money
// spent and photos), the representatives' meeting urges (a check recorded
// at one of its held meetings), residents supervise (comments from the
// public page, or recorded by staff); the final report completes it and
// the matter moves on — to the year-end evaluation, where residents rate
// it until staff close the evaluation. Staff may also withdraw an open
// matter, with a reason.

// Photo limits of a step.
const (
	MaxStepPhotos = 6
	MaxStepPhoto  = 5 << 20 // bytes
)

// Refusals of the implementation order, besides the procedure's
// (gov.matter.refuse.<code>).
const (
	RefuseNotAssigned = "not_assigned" // implement or complete before the assign step
	RefuseAssigned    = "assigned"     // assign twice
	RefuseStep        = "step_kind"    // only implementation steps may be hidden from the portal
)

// staffActs are the actions ActOnMatter takes (meetings decide the
// meeting stages; residents rate and comment through Rate).
var staffActs = []string{ActAssign, ActImplement, ActUrge, ActSupervise, ActComplete, ActEvaluate, ActWithdraw}

// StaffActs lists the actions staff take on a matter, in the order the
// matter's page offers them.
func StaffActs() []string { return slices.Clone(staffActs) }

// hideable are the steps staff may keep off the public portal.
var hideable = []string{ActAssign, ActImplement, ActUrge, ActSupervise, ActComplete}

// MatterAction is one step staff take on a matter.
type MatterAction struct {
	Kind string // ActAssign, ActImplement, ActUrge, ActSupervise, ActComplete, ActEvaluate or ActWithdraw
	// Note is the instructions (assign), the progress report (implement),
	// what the check found (urge), the residents' comments (supervise), the
	// final report (complete), the conclusion (evaluate, optional) or the
	// reason (withdraw). Required but for assign and evaluate.
	Note string
	// Responsible (required) and Due (YYYY-MM-DD, optional, not before
	// today) of an assign step.
	Responsible string
	Due         string
	// Percent of the work done (implement: required, 0–100, never less than
	// before); complete makes it 100.
	Percent *int
	// Spent is money spent since the last report, in yuan (implement,
	// complete); it adds to the matter's spending.
	Spent string
	// Photos of the work (implement, supervise, complete): at most
	// MaxStepPhotos of at most MaxStepPhoto bytes, JPEG, PNG or WebP.
	Photos [][]byte
	// MeetingID is the held meeting of the urging body (urge).
	MeetingID int64
	// Private keeps an implementation step off the public portal.
	Private bool
}

// urgeBody is the body kind whose meetings urge (the pack's urge step,
// else the representatives' meeting).
func urgeBody(g *policy.Governance) string {
	if g != nil {
		for _, st := range g.Implementation {
			if st.Key == policy.StepUrge && st.Body != "" {
				return st.Body
			}
		}
	}
	return policy.BodyRepresentatives
}

// UrgeMeetings lists the held meetings of the urging body of a matter's
// village from the last year, newest first: those an urge step may name.
func (s *Service) UrgeMeetings(ctx context.Context, p *access.Principal, m Matter) ([]MatterMeeting, error) {
	if !p.CanAt(PermView, m.Division) {
		return nil, db.ErrNotFound
	}
	return s.matters().heldMeetings(ctx, m.Division, urgeBody(s.Rules(m.Division)), calendar.AddDays(s.Today(), -366))
}

// lockMatter reads a matter by number inside a transaction, locked, for a
// principal who must hold governance.manage at its village (one who only
// sees it gets ErrForbidden, one who does not db.ErrNotFound).
func (s *Service) lockMatter(ctx context.Context, p *access.Principal, number string) (Matter, error) {
	st := s.matters()
	m, err := st.byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return Matter{}, err
	}
	if m, err = st.lock(ctx, m.ID); err != nil {
		return Matter{}, err
	}
	if !p.CanAt(PermView, m.Division) {
		return m, db.ErrNotFound
	}
	if !p.CanAt(PermManage, m.Division) {
		return m, ErrForbidden
	}
	return m, nil
}

// ActOnMatter takes one step on a matter: an implementation step, the close
// of the evaluation, or a withdrawal. The procedure must allow it at the
// matter's stage (*ProcedureError: out_of_order, closed, not_assigned,
// assigned), and the input must be whole (field.Errors: note, responsible,
// due, percent, spent, photos, meeting_id). The matter's row, the step, its
// photos, the facts and the audit entry commit together. It returns the
// matter as it is now.
func (s *Service) ActOnMatter(ctx context.Context, p *access.Principal, number string, a MatterAction) (Matter, error) {
	if !slices.Contains(staffActs, a.Kind) {
		return Matter{}, &ProcedureError{Code: RefuseAction, Action: a.Kind}
	}
	photos, es := checkStepPhotos(a.Photos)
	if len(photos) > 0 && a.Kind != ActImplement && a.Kind != ActSupervise && a.Kind != ActComplete {
		es.Add("photos", "photos_not_here")
	}
	var out Matter
	denied := Matter{}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		m, err := s.lockMatter(ctx, p, number)
		if errors.Is(err, db.ErrNotFound) && m.ID != 0 {
			denied = m
		}
		if err != nil {
			return err
		}
		pr, err := s.procedureOf(m)
		if err != nil {
			return err
		}
		mv, err := Transition(pr, m.Position(), MatterEvent{Action: a.Kind})
		if err != nil {
			return err
		}
		switch {
		case a.Kind == ActAssign && m.Responsible != "":
			return &ProcedureError{Code: RefuseAssigned, Action: a.Kind, Procedure: m.Procedure, At: m.Stage, Status: m.Status}
		case (a.Kind == ActImplement || a.Kind == ActComplete) && m.Responsible == "":
			return &ProcedureError{Code: RefuseNotAssigned, Action: a.Kind, Procedure: m.Procedure, At: m.Stage, Status: m.Status}
		}
		today := s.Today()
		before := m
		step := Step{Stage: m.Stage, Action: a.Kind, Note: strings.TrimSpace(a.Note), Public: !a.Private, Day: today,
			Actor: actorName(ctx, p)}
		var changes []audit.Change
		switch a.Kind {
		case ActAssign:
			m.Responsible = strings.TrimSpace(a.Responsible)
			checkMatterText(&es, "responsible", m.Responsible, MaxMatterName, true)
			checkMatterText(&es, "note", step.Note, MaxMatterText, false)
			if strings.TrimSpace(a.Due) != "" {
				due, ok := calendar.ParseDay(a.Due)
				switch {
				case !ok:
					es.Add("due", "date")
				case due < today:
					es.Add("due", "due_past")
				}
				m.DueDay = due
			}
			changes = append(changes, audit.Change{Field: "responsible", After: m.Responsible}, audit.Change{Field: "due_day", After: m.DueDay})
		case ActImplement, ActComplete:
			checkMatterText(&es, "note", step.Note, MaxMatterText, true)
			spent, ok := ParseYuan(a.Spent)
			if !ok {
				es.Add("spent", "money")
			}
			step.Spent = spent
			if a.Kind == ActComplete {
				step.Percent = 100
			} else if a.Percent == nil {
				es.Add("percent", "required")
			} else {
				step.Percent = *a.Percent
				switch {
				case step.Percent < 0 || step.Percent > 100:
					es.Add("percent", "percent_range")
				case step.Percent < m.Progress:
					es.Add("percent", "percent_back", strconv.Itoa(m.Progress))
				}
			}
			m.Progress, m.Spent = step.Percent, m.Spent+spent
			changes = append(changes, audit.Change{Field: "progress", Before: before.Progress, After: m.Progress})
			if spent != 0 {
				changes = append(changes, audit.Change{Field: "spent", Before: before.Spent, After: m.Spent})
			}
		case ActUrge:
			checkMatterText(&es, "note", step.Note, MaxMatterText, true)
			if err := s.checkUrgeMeeting(ctx, m, a.MeetingID, &es); err != nil {
				return err
			}
			step.MeetingID = a.MeetingID
			changes = append(changes, audit.Change{Field: "meeting", After: a.MeetingID})
		case ActSupervise:
			checkMatterText(&es, "note", step.Note, MaxMatterText, true)
		case ActEvaluate:
			checkMatterText(&es, "note", step.Note, MaxMatterText, false)
			step.Public = true
			changes = append(changes, audit.Change{Field: "rating_n", After: m.RatingN}, audit.Change{Field: "rating", After: m.RatingText()})
		case ActWithdraw:
			checkMatterText(&es, "note", step.Note, MaxMatterText, true)
			step.Public = true
			m.Reason = step.Note
			changes = append(changes, audit.Change{Field: "reason", After: m.Reason})
		}
		if err := es.Err(); err != nil {
			return err
		}
		applyMove(&m, mv, today)
		if err := s.saveMove(ctx, before, m, mv, &step, nil, changes); err != nil {
			return err
		}
		if err := s.addStepPhotos(ctx, step.ID, photos); err != nil {
			return err
		}
		out = m
		return nil
	})
	if denied.ID != 0 {
		s.deny(ctx, "matter", denied.ID, denied.Division)
	}
	if err != nil {
		return Matter{}, err
	}
	return out, nil
}

// checkUrgeMeeting checks the meeting an urge step names: a held meeting
// of the urging body of the matter's village.
func (s *Service) checkUrgeMeeting(ctx context.Context, m Matter, id int64, es *field.Errors) error {
	if id <= 0 {
		es.Add("meeting_id", "required")
		return nil
	}
	mt, err := s.matters().meeting(ctx, id)
	switch {
	case errors.Is(err, db.ErrNotFound) || (err == nil && mt.Division != m.Division):
		es.Add("meeting_id", "meeting_unknown")
	case err != nil:
		return err
	case mt.BodyKind != urgeBody(s.Rules(m.Division)):
		es.Add("meeting_id", "meeting_body")
	case mt.State != MeetingHeld:
		es.Add("meeting_id", "meeting_not_held")
	}
	return nil
}

type stepPhoto struct {
	data  []byte
	ctype string
}

// checkStepPhotos sniffs the photos of a step; problems are field errors
// of "photos".
func checkStepPhotos(photos [][]byte) ([]stepPhoto, field.Errors) {
	var es field.Errors
	if len(photos) > MaxStepPhotos {
		es.Add("photos", "too_many_photos", strconv.Itoa(MaxStepPhotos))
		return nil, es
	}
	var out []stepPhoto
	for i, b := range photos {
		data, ctype, err := sealed.Read(strings.NewReader(string(b)), MaxStepPhoto, sealed.Images)
		switch {
		case errors.Is(err, sealed.ErrTooLarge):
			es.Add("photos", "photo_size", strconv.Itoa(i+1))
		case err != nil:
			es.Add("photos", "photo_type", strconv.Itoa(i+1))
		default:
			out = append(out, stepPhoto{data, ctype})
		}
	}
	return out, es
}

// addStepPhotos seals the photos and stores their rows (files first: a
// failed transaction leaves at most an orphan file).
func (s *Service) addStepPhotos(ctx context.Context, stepID int64, photos []stepPhoto) error {
	for _, ph := range photos {
		f, err := s.Files.Seal("governance", stepID, ph.data, ph.ctype)
		if err != nil {
			return err
		}
		row := StepPhoto{StepID: stepID, Path: f.Rel, Mime: f.ContentType, Size: f.Size}
		if err := s.matters().insertPhoto(ctx, &row); err != nil {
			return err
		}
	}
	return nil
}

// SetStepPublic shows an implementation step of a matter on the public
// portal, or keeps it off (governance.manage at the matter's village).
func (s *Service) SetStepPublic(ctx context.Context, p *access.Principal, number string, stepID int64, public bool) error {
	denied := Matter{}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		m, err := s.lockMatter(ctx, p, number)
		if errors.Is(err, db.ErrNotFound) && m.ID != 0 {
			denied = m
		}
		if err != nil {
			return err
		}
		steps, err := s.matters().steps(ctx, m.ID, false)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(steps, func(st Step) bool { return st.ID == stepID })
		if i < 0 {
			return db.ErrNotFound
		}
		if !slices.Contains(hideable, steps[i].Action) {
			return &ProcedureError{Code: RefuseStep, Action: steps[i].Action, Procedure: m.Procedure, At: m.Stage, Status: m.Status}
		}
		if steps[i].Public == public {
			return nil
		}
		if _, err := s.matters().setStepPublic(ctx, m.ID, stepID, public, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "matter", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "step", After: stepID}, {Field: "public", Before: !public, After: public}}})
	})
	if denied.ID != 0 {
		s.deny(ctx, "matter", denied.ID, denied.Division)
	}
	return err
}

// MatterPhoto reads and decrypts a photo of a matter the principal may see.
func (s *Service) MatterPhoto(ctx context.Context, p *access.Principal, number string, photoID int64) (StepPhoto, []byte, error) {
	m, err := s.MatterByNumber(ctx, p, number)
	if err != nil {
		return StepPhoto{}, nil, err
	}
	ph, matterID, _, err := s.matters().photo(ctx, photoID)
	if err != nil {
		return StepPhoto{}, nil, err
	}
	if matterID != m.ID {
		return StepPhoto{}, nil, db.ErrNotFound
	}
	data, err := s.Files.Open(ph.Path)
	return ph, data, err
}

// ratingDevice is what gov_ratings keeps of a device: a keyed hash of what
// the public page sends (its cookie), so the table links no browser.
func (s *Service) ratingDevice(device string) string {
	device = strings.TrimSpace(device)
	if device == "" || s.Keys == nil {
		return device
	}
	return s.Keys.Lookup("gov.rating:" + device)
}

// Rate records a resident's year-end rating (score 1–5, with an optional
// comment) while the matter is at its evaluate stage, or a supervision
// comment (score 0) while it is at its implement stage — from the public
// page of village, without an account. One scored rating per device,
// matter and year (ErrAlreadyRated). A matter of another village is
// db.ErrNotFound; one at another stage a *ProcedureError; bad input
// field.Errors (score, comment, device).
func (s *Service) Rate(ctx context.Context, village int64, number string, device string, score int, comment string) error {
	comment = strings.TrimSpace(comment)
	var es field.Errors
	switch {
	case score < 0 || score > 5:
		es.Add("score", "score_range")
	case score == 0 && comment == "":
		es.Add("comment", "required")
	}
	checkMatterText(&es, "comment", comment, MaxComment, false)
	dev := s.ratingDevice(device)
	if score > 0 && dev == "" {
		es.Add("device", "required")
	}
	if err := es.Err(); err != nil {
		return err
	}
	act := ActComment
	if score > 0 {
		act = ActRate
	}
	st := s.matters()
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		m, err := st.byNumber(ctx, strings.TrimSpace(number))
		if err != nil {
			return err
		}
		if m.Division != village {
			return db.ErrNotFound
		}
		if m, err = st.lock(ctx, m.ID); err != nil {
			return err
		}
		pr, err := s.procedureOf(m)
		if err != nil {
			return err
		}
		if _, err := Transition(pr, m.Position(), MatterEvent{Action: act}); err != nil {
			return err
		}
		now := s.now()
		today := s.Today()
		r := Rating{MatterID: m.ID, Year: today / 10000, Score: score, Comment: comment, Day: today, CreatedAt: now.UnixMilli()}
		if score > 0 {
			if done, err := st.rated(ctx, m.ID, r.Year, dev); err != nil {
				return err
			} else if done {
				return ErrAlreadyRated
			}
		}
		inserted, err := st.insertRating(ctx, r, dev)
		if err != nil {
			return err
		}
		if !inserted {
			return ErrAlreadyRated
		}
		changes := []audit.Change{{Field: "action", After: act}, {Field: "score", After: score}}
		if score > 0 {
			before := m
			m.RatingN++
			m.RatingSum += score
			m.UpdatedAt = now.UnixMilli()
			if err := st.update(ctx, m); err != nil {
				return err
			}
			per := period(today)
			if err := facts.AddAll(ctx, s.DB, []facts.Delta{
				{Division: m.Division, Period: per, Metric: MetricRatings, N: 1},
				{Division: m.Division, Period: per, Metric: MetricRatingSum, N: int64(score)},
			}); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Field: "rating_n", Before: before.RatingN, After: m.RatingN})
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "matter", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: changes})
	})
}
