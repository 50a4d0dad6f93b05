// Package registry holds households and residents: every person the
// community serves — registered, non-registered permanent and migrant
// (NH-1) — collected once (NT-2) and read by every other capability. ID
// numbers and phones are encrypted at rest and shown masked; changes are
// events with effective dates; population by residency, gender, birth year
// and tag is kept as facts.
package registry

import (
	"github.com/shequ-platform/shequ/internal/platform/field"
	"slices"
	"strings"
	"time"
)

// Residency of a resident (户籍人口 / 非户籍常住人口 / 流动人口).
const (
	Registered    = "registered"
	NonRegistered = "non_registered"
	Migrant       = "migrant"
)

// Residencies lists them in display order.
var Residencies = []string{Registered, NonRegistered, Migrant}

// Status of a resident.
const (
	Present  = "present"
	MovedOut = "moved_out"
	Deceased = "deceased"
)

// Relations to the household head (与户主关系).
var Relations = []string{"head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "child_in_law", "other"}

// Household kinds: family (家庭户) or collective (集体户).
var HouseholdKinds = []string{"family", "collective"}

// Educations (文化程度) and employments (就业状况), in display order.
var (
	Educations  = []string{"none", "primary", "junior", "senior", "vocational", "college", "bachelor", "postgraduate"}
	Employments = []string{"employed", "self_employed", "farmer", "unemployed", "retired", "student", "other"}
)

// Ethnicities are the 56 ethnic groups in the order of GB/T 3304, plus the
// two residual entries of that standard.
var Ethnicities = []string{"汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
	"满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族",
	"拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族",
	"毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
	"保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
	"其他", "外国血统中国籍人士"}

// NormalizeEthnicity accepts "汉", "汉族" (and the same for every group).
func NormalizeEthnicity(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if slices.Contains(Ethnicities, s) {
		return s, true
	}
	if slices.Contains(Ethnicities, s+"族") {
		return s + "族", true
	}
	return "", false
}

// Household is one 户.
type Household struct {
	ID        int64
	County    int64
	Village   int64
	Grid      int64
	Number    string
	Kind      string
	Address   string
	HouseNo   string
	Lat, Lon  *float64
	CreatedAt int64
	UpdatedAt int64
}

// Division is where the household lives: its grid, else its village.
func (h Household) Division() int64 {
	if h.Grid != 0 {
		return h.Grid
	}
	return h.Village
}

// Resident is one person as screens see it: personal data masked.
type Resident struct {
	ID          int64
	County      int64
	Division    int64
	HouseholdID int64
	Relation    string
	Name        string
	Gender      string // M or F
	Birth       int    // YYYYMMDD
	Ethnicity   string
	IDMasked    string
	PhoneMasked string
	Residency   string
	Status      string
	PartyMember bool
	Education   string
	Employment  string
	Since       int
	Tags        []TagValue
	CreatedAt   int64
	UpdatedAt   int64
}

// TagValue is a tag a resident carries.
type TagValue struct {
	Tag   string
	Grade string
	Since int
}

// AgeOn returns the resident's age in whole years on a YYYYMMDD day.
func (r Resident) AgeOn(day int) int {
	a := day/10000 - r.Birth/10000
	if day%10000 < r.Birth%10000 {
		a--
	}
	return a
}

// Event is one change in a resident's history.
type Event struct {
	ID           int64
	ResidentID   int64
	Kind         string // register, birth, move_in, move_out, transfer, death, tag_on, tag_off, update
	Effective    int
	FromDivision int64
	ToDivision   int64
	Detail       string
	RecordedAt   int64
	RecordedBy   string
}

// Event kinds.
const (
	EventRegister = "register"
	EventBirth    = "birth"
	EventMoveIn   = "move_in"
	EventMoveOut  = "move_out"
	EventTransfer = "transfer"
	EventDeath    = "death"
	EventTagOn    = "tag_on"
	EventTagOff   = "tag_off"
	EventUpdate   = "update"
)

// FieldError and Errors are the shared input errors (internal/platform/
// field), for forms and import reports; codes are translated by the UI as
// registry.error.<code>.
type (
	FieldError = field.Error
	Errors     = field.Errors
)

// Date helpers: dates are YYYYMMDD integers (docs/decisions/0004).

// ParseDate reads 2006-01-02, 2006/1/2, 20060102 or 2006.1.2.
func ParseDate(s string) (int, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "2006-1-2", "2006/01/02", "2006/1/2", "20060102", "2006.1.2", "2006年1月2日"} {
		if t, err := time.Parse(layout, s); err == nil {
			return DateOf(t), true
		}
	}
	return 0, false
}

// DateOf is t's calendar day as YYYYMMDD.
func DateOf(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

// FormatDate writes YYYYMMDD as 2006-01-02.
func FormatDate(d int) string {
	if d == 0 {
		return ""
	}
	return time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

var china = time.FixedZone("CST", 8*3600)

// Today is today's date in China.
func Today() int { return DateOf(time.Now().In(china)) }
