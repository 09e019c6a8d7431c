package parse

import "testing"

// TestStepShapes: vLLM's step names give requests and tokens; user patterns
// give them through the named groups requests and tokens.
func TestStepShapes(t *testing.T) {
	def, err := newPhaser(nil)
	if err != nil {
		t.Fatal(err)
	}
	user, err := newPhaser(map[string][]string{
		PhaseDecode:  {`^decode_bs(?P<requests>\d+)$`},
		PhasePrefill: {`^prefill_(?P<requests>\d+)x(?P<tokens>\d+)(?P<other>\w*)$`},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p     *phaser
		name  string
		phase string
		want  shape
	}{
		{def, "execute_context_16(8192)_generation_0(0)", PhasePrefill, shape{16, 8192}},
		{def, "execute_context_0(0)_generation_16(16)", PhaseDecode, shape{16, 16}},
		{def, "execute_context_2(700)_generation_30(30)", PhaseMixed, shape{32, 730}},
		{def, "execute_context_0(0)_generation_4(12)", PhaseDecode, shape{4, 12}}, // speculative: 3 tokens a request
		{def, "execute_new_3_cached_5", PhaseMixed, shape{8, 0}},
		{def, "execute_context_0(0)_generation_0(0)", "", shape{}},
		{def, "decode", PhaseDecode, shape{}},
		{def, "execute_context_0(0)_generation_99999999999999999999(1)", PhaseDecode, shape{}}, // too large to say
		{user, "decode_bs24", PhaseDecode, shape{24, 0}},
		{user, "prefill_4x2048_warm", PhasePrefill, shape{4, 2048}},
		{user, "decode", "", shape{}}, // decode's defaults are replaced
		{user, "execute_context_2(700)_generation_30(30)", PhaseMixed, shape{32, 730}},
	} {
		phase, sh := c.p.step(c.name)
		if phase != c.phase || sh != c.want {
			t.Errorf("%s: %q %+v, want %q %+v", c.name, phase, sh, c.phase, c.want)
		}
	}
}
