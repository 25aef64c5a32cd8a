package nodewire

import (
	"reflect"
	"strings"
	"sync"
)

// structPlan is how a struct type is written: its fields as
// encoding/json writes them, or, for the rules this package does not
// repeat, through encoding/json itself (viaJSON).
type structPlan struct {
	fields  []fieldPlan
	viaJSON bool
}

type fieldPlan struct {
	index     int
	name      string
	omitEmpty bool
}

// newStructPlan lists t's exported fields in declaration order, named by
// their json tags. Embedded fields (promoted by encoding/json's rules of
// depth and dominance) and the string and omitzero options send the
// whole type through JSON instead.
func newStructPlan(t reflect.Type) *structPlan {
	p := &structPlan{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return &structPlan{viaJSON: true}
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fp := fieldPlan{index: i, name: name}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				fp.omitEmpty = true
			case "string", "omitzero":
				return &structPlan{viaJSON: true}
			}
		}
		p.fields = append(p.fields, fp)
	}
	return p
}

// plans holds each struct type's plan, worked out once (reflect.Type →
// *structPlan): types are few and fixed, as in encoding/json's cache.
var plans sync.Map

// planOf is t's struct plan.
func planOf(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p, _ := plans.LoadOrStore(t, newStructPlan(t))
	return p.(*structPlan)
}
