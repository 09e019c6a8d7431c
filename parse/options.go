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
	// the other phases keep their defaults. A pattern's named groups
	// "requests" and "tokens" (decimal numbers) give a step's shape, as
	// vLLM's execute_context_N(T)_generation_M(G) names do by default.
	Phases map[string][]string
	// Domain, when set, is the one NVTX domain whose ranges can be steps
	// ("default" names the default domain); empty: every domain.
	Domain string
	// Infer tunes how steps are inferred from the launch stream where no
	// step range matches.
	Infer InferOptions
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
	if err := o.Infer.Validate(); err != nil {
		return err
	}
	_, err := newClassifier(o.Components)
	return err
}

// InferOptions tune step inference (gate.yml infer-steps): which phase the
// frequent repeating step is, which the rare large segment before it, and
// how often a segment must repeat to be a step. The zero value infers
// decode and prefill steps from segments repeating three times or more.
type InferOptions struct {
	// Repeating is the phase of the repeating step; PhaseNone turns
	// inference off. Default decode.
	Repeating string
	// Large is the phase of a segment holding GPU work right before a
	// repeating step; PhaseNone leaves such segments out. Default prefill
	// (none where the repeating step is prefill).
	Large string
	// MinRepeats is how often a segment must repeat to be a step
	// (default 3).
	MinRepeats int
}

// PhaseNone turns a phase of step inference off.
const PhaseNone = "none"

// Validate checks the phases and the repeat count, naming gate.yml's keys.
func (o InferOptions) Validate() error {
	for _, f := range []struct{ key, v string }{{"repeating", o.Repeating}, {"large", o.Large}} {
		switch f.v {
		case "", PhaseNone, PhasePrefill, PhaseDecode, PhaseMixed:
		default:
			return fmt.Errorf("infer-steps.%s: unknown phase %q (want prefill, decode, mixed or none)", f.key, f.v)
		}
	}
	o = o.withDefaults()
	if o.Repeating != PhaseNone && o.Repeating == o.Large {
		return fmt.Errorf("infer-steps: repeating and large are both %q", o.Repeating)
	}
	if o.MinRepeats < 2 {
		return fmt.Errorf("infer-steps.min-repeats: %d (want 2 or more)", o.MinRepeats)
	}
	return nil
}

// minRepeats is InferOptions.MinRepeats' default.
const minRepeats = 3

func (o InferOptions) withDefaults() InferOptions {
	if o.Repeating == "" {
		o.Repeating = PhaseDecode
	}
	if o.Large == "" {
		o.Large = PhasePrefill
		if o.Repeating == PhasePrefill {
			o.Large = PhaseNone
		}
	}
	if o.MinRepeats == 0 {
		o.MinRepeats = minRepeats
	}
	return o
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

// shape is what a step's name says about its size; 0 where it does not.
type shape struct{ requests, tokens int }

// step returns the phase of a range name ("" when it is not a step) and the
// shape its name gives.
func (p *phaser) step(name string) (string, shape) {
	for _, ph := range phaseOrder {
		for _, re := range p.user[ph] {
			if m := re.FindStringSubmatch(name); m != nil {
				return ph, userShape(re, m)
			}
		}
	}
	def, sh := defaultPhase(name)
	if _, overridden := p.user[def]; overridden {
		return "", shape{}
	}
	return def, sh
}

// userShape reads the named groups "requests" and "tokens" of a match.
func userShape(re *regexp.Regexp, m []string) shape {
	var sh shape
	for i, n := range re.SubexpNames() {
		v, err := strconv.Atoi(m[i])
		if err != nil || v < 0 || v >= 1<<30 {
			continue
		}
		switch n {
		case "requests":
			sh.requests = v
		case "tokens":
			sh.tokens = v
		}
	}
	return sh
}

// defaultPhase applies the built-in rules: vLLM step names by their request
// counts (context requests are prefill, generation requests decode; older
// releases say new and cached), else plain "prefill"/"decode" in the name.
// vLLM's names give the step's shape: its requests and, in current
// releases, its tokens (context tokens are the prompts', generation tokens
// one or more per decoding request).
func defaultPhase(name string) (string, shape) {
	var ctx, gen int
	var sh shape
	if m := vllmStep.FindStringSubmatch(name); m != nil {
		n, ok := atois(m[1:])
		ctx, gen = n[0], n[2]
		if ok {
			sh = shape{requests: n[0] + n[2], tokens: n[1] + n[3]}
		}
	} else if m = vllmOldStep.FindStringSubmatch(name); m != nil {
		n, ok := atois(m[1:])
		ctx, gen = n[0], n[1]
		if ok {
			sh = shape{requests: n[0] + n[1]}
		}
	} else {
		switch {
		case defaultPrefill.MatchString(name):
			return PhasePrefill, shape{}
		case defaultDecode.MatchString(name):
			return PhaseDecode, shape{}
		}
		return "", shape{}
	}
	switch {
	case ctx > 0 && gen > 0:
		return PhaseMixed, sh
	case ctx > 0:
		return PhasePrefill, sh
	case gen > 0:
		return PhaseDecode, sh
	}
	return "", shape{}
}

// atois converts the decimal strings a pattern matched as \d+; a value too
// large (saturated at the largest int) makes the shape unknown (false).
func atois(ss []string) ([]int, bool) {
	out := make([]int, len(ss))
	ok := true
	for i, v := range ss {
		var err error
		out[i], err = strconv.Atoi(v)
		ok = ok && err == nil && out[i] < 1<<30
	}
	return out, ok
}
