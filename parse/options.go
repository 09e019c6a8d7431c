package parse

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
)

// Options tune how an export is read into a Summary. The zero value uses the
// whole capture and the default phase and component rules.
type Options struct {
	// Scope names the NVTX push/pop range that bounds the measured window
	// (e.g. "benchmark"); empty means the whole capture. The first range of
	// that name is used.
	Scope string
	// Phases maps a phase (prefill, decode, mixed) to regular expressions
	// over step range names. A phase listed here uses only these patterns;
	// the other phases keep their defaults.
	Phases map[string][]string
	// Components are extra component rules, tried in order before the
	// defaults.
	Components []ComponentRule
}

// ComponentRule assigns kernels whose name matches Match (a regular
// expression, case-insensitive) to component Name.
type ComponentRule struct {
	Name  string `json:"name"`
	Match string `json:"match"`
}

// Validate reports the first phase pattern or component rule that Export
// would refuse, naming it as gate.yml does (phases.decode[0],
// components[2].match), so that a configuration is checked once, by the
// code that uses it.
func (o Options) Validate() error {
	if _, err := newPhaser(o.Phases); err != nil {
		return err
	}
	_, err := newClassifier(o.Components)
	return err
}

// phaseOrder is the order in which user phase patterns are tried.
var phaseOrder = []string{PhaseMixed, PhasePrefill, PhaseDecode}

// vllmStep matches vLLM's per-step range name
// execute_context_<reqs>(<tokens>)_generation_<reqs>(<tokens>).
var vllmStep = regexp.MustCompile(`^execute_context_(\d+)\((\d+)\)_generation_(\d+)\((\d+)\)$`)

// vllmOldStep matches older vLLM releases' step name
// execute_new_<new requests>_cached_<cached requests>.
var vllmOldStep = regexp.MustCompile(`^execute_new_(\d+)_cached_(\d+)$`)

var (
	defaultPrefill = regexp.MustCompile(`(?i)prefill`)
	defaultDecode  = regexp.MustCompile(`(?i)decode`)
)

// phaser classifies step range names into phases.
type phaser struct {
	user map[string][]*regexp.Regexp
}

func newPhaser(phases map[string][]string) (*phaser, error) {
	p := &phaser{user: map[string][]*regexp.Regexp{}}
	names := make([]string, 0, len(phases))
	for name := range phases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch name {
		case PhasePrefill, PhaseDecode, PhaseMixed:
		default:
			return nil, fmt.Errorf("phases: unknown phase %q (want prefill, decode or mixed)", name)
		}
		for i, expr := range phases[name] {
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("phases.%s[%d]: %w", name, i, err)
			}
			p.user[name] = append(p.user[name], re)
		}
	}
	return p, nil
}

// phase returns the phase of a range name, or "" when it is not a step.
func (p *phaser) phase(name string) string {
	for _, ph := range phaseOrder {
		for _, re := range p.user[ph] {
			if re.MatchString(name) {
				return ph
			}
		}
	}
	def := defaultPhase(name)
	if _, overridden := p.user[def]; overridden {
		return ""
	}
	return def
}

// defaultPhase applies the built-in rules: vLLM step names by their request
// counts (context requests are prefill, generation requests decode; older
// releases say new and cached), else plain "prefill"/"decode" in the name.
func defaultPhase(name string) string {
	m := vllmStep.FindStringSubmatch(name)
	if m != nil {
		m = []string{m[1], m[3]}
	} else if m = vllmOldStep.FindStringSubmatch(name); m != nil {
		m = m[1:]
	}
	if m != nil {
		ctx, _ := strconv.Atoi(m[0])
		gen, _ := strconv.Atoi(m[1])
		switch {
		case ctx > 0 && gen > 0:
			return PhaseMixed
		case ctx > 0:
			return PhasePrefill
		case gen > 0:
			return PhaseDecode
		}
		return ""
	}
	switch {
	case defaultPrefill.MatchString(name):
		return PhasePrefill
	case defaultDecode.MatchString(name):
		return PhaseDecode
	}
	return ""
}
