package registry

import "strings"

// Words people type in forms and spreadsheets, mapped to the model's keys.
// Keys themselves (and their English) are accepted too.
var labelWords = map[string]map[string]string{
	"gender": {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F", "1": "M", "2": "F"},
	"residency": {
		"户籍": Registered, "户籍人口": Registered, "本地户籍": Registered, "常住户籍": Registered,
		"非户籍": NonRegistered, "非户籍常住": NonRegistered, "非户籍常住人口": NonRegistered, "常住": NonRegistered, "人户分离": NonRegistered,
		"流动": Migrant, "流动人口": Migrant, "外来": Migrant, "外来人口": Migrant, "暂住": Migrant,
	},
	"relation": {
		"户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
		"子": "child", "女": "child", "儿子": "child", "女儿": "child", "长子": "child", "次子": "child", "长女": "child", "次女": "child", "子女": "child",
		"父亲": "parent", "母亲": "parent", "父母": "parent", "父": "parent", "母": "parent",
		"孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild",
		"祖父": "grandparent", "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
		"兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling", "兄弟姐妹": "sibling",
		"儿媳": "child_in_law", "女婿": "child_in_law", "其他": "other",
	},
	"education": {
		"文盲": "none", "无": "none", "不识字": "none", "小学": "primary", "初中": "junior", "高中": "senior",
		"中专": "vocational", "职高": "vocational", "技校": "vocational", "大专": "college", "专科": "college",
		"本科": "bachelor", "大学": "bachelor", "研究生": "postgraduate", "硕士": "postgraduate", "博士": "postgraduate",
	},
	"employment": {
		"在业": "employed", "在职": "employed", "就业": "employed", "务工": "employed", "个体": "self_employed", "个体户": "self_employed",
		"务农": "farmer", "农民": "farmer", "失业": "unemployed", "无业": "unemployed", "离退休": "retired", "退休": "retired",
		"学生": "student", "在校": "student", "其他": "other",
	},
	"household_kind": {"家庭户": "family", "家庭": "family", "集体户": "collective", "集体": "collective"},
}

var labelKeys = map[string][]string{
	"residency": Residencies, "relation": Relations, "education": Educations, "employment": Employments,
	"household_kind": HouseholdKinds, "gender": {"M", "F"},
}

// ParseLabel maps a typed value of an enumerated field to its key; ok is
// false for a value nobody defined. "" gives "", true.
func ParseLabel(field, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	for _, k := range labelKeys[field] {
		if strings.EqualFold(k, s) {
			return k, true
		}
	}
	if k, ok := labelWords[field][strings.ToLower(s)]; ok {
		return k, true
	}
	return "", false
}
