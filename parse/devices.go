package parse

import (
	"context"
	"sort"

	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// deviceUsage is what the per-device pass found: usage per device and per
// step window, or the reason it could not be accounted.
type deviceUsage struct {
	devices []timeline.DeviceUsage
	steps   []timeline.StepUsage
	err     error
}

// readDevices accounts busy, communication and exposed time per device (the
// timeline.Accumulator) over the window and the spans of the
// steady-state steps (stepSamples: the decode steps, else every step), on
// the device each step ran on. The step spans are known only once every op
// was projected, so this is a second pass over the ops, in start order
// again.
func (p *profile) readDevices(ctx context.Context, s *schema, ks *kernelScan, small []gpuOp) error {
	var windows []timeline.Window
	for _, st := range steadySteps(p.phases()) {
		if st.SpanNs > 0 {
			windows = append(windows, timeline.Window{Device: st.Device, StartNs: st.StartNs, EndNs: st.StartNs + st.SpanNs})
		}
	}
	lo, hi := p.window()
	p.devs = &deviceUsage{}
	acc, err := timeline.NewAccumulator(lo, hi, windows)
	if err != nil {
		p.devs.err = err
		return nil
	}
	add := func(op *gpuOp) {
		if p.devs.err != nil {
			return
		}
		if _, inScope, _ := p.project(op, false); !inScope {
			return
		}
		p.devs.err = acc.Add(timeline.Op{Device: int(op.device), StartNs: op.start, EndNs: op.end, Class: p.acc.opClass(op)})
	}
	err = p.opPass(ctx, s, ks, small, func() func(*gpuOp) {
		acc, _ = timeline.NewAccumulator(lo, hi, windows)
		p.devs.err = nil
		return add
	})
	if err != nil {
		return err
	}
	p.devs.devices, p.devs.steps = acc.Devices(), acc.Steps()
	return nil
}

// deviceList turns the per-device usage into the summary's device count,
// devices (only for several) and communication. kernels are the summary's.
func (p *profile) deviceList(kernels []Kernel) (int, []Device, *Communication) {
	if p.devs.err != nil {
		p.warnf("devices", "per-device accounting skipped: %v", p.devs.err)
		return 0, nil, nil
	}
	out, comm := buildDevices(p.devs.devices, p.devs.steps, kernels, p.gpu.Name)
	n := len(p.devs.devices)
	if n < 2 {
		out = nil
	}
	return n, out, comm
}

// buildDevices turns accumulated usage into the Summary's per-device and
// communication fields. kernels are the summary's kernels (their names give
// the collectives); gpuName labels every device. Communication is nil when
// there is no communication kernel at all.
//
// Communication.TimeNs is the summed duration of communication kernels;
// ExposedNs the summed exposed time of all devices; ExposedPct is
// 100·ExposedNs/TimeNs (capped at 100), the share of communication that no
// compute hides. ExposedSamples has one value per step window, in the order
// of steps.
func buildDevices(devs []timeline.DeviceUsage, steps []timeline.StepUsage, kernels []Kernel, gpuName string) ([]Device, *Communication) {
	spans := map[int][]int64{}
	for _, s := range steps {
		spans[s.Device] = append(spans[s.Device], s.EndNs-s.StartNs)
	}
	out := make([]Device, 0, len(devs))
	busy := make([]int64, 0, len(devs))
	var exposed, commUnion int64
	for _, d := range devs {
		out = append(out, Device{
			ID:       d.Device,
			Name:     gpuName,
			BusyNs:   d.BusyNs,
			BusyPct:  100 * ratio(float64(d.BusyNs), float64(d.WindowNs)),
			KernelNs: d.KernelNs,
			Kernels:  d.Kernels,
			CommNs:   d.CommKernelNs,
			Steps:    statOf(spans[d.Device]),
		})
		busy = append(busy, d.BusyNs)
		exposed += d.ExposedNs
		commUnion += d.CommNs
	}

	colls := collectives(kernels)
	if len(colls) == 0 && commUnion == 0 {
		return out, nil
	}
	c := &Communication{
		Collectives: colls,
		ExposedNs:   exposed,
		Imbalance:   timeline.Imbalance(busy),
	}
	for _, k := range colls {
		c.TimeNs += k.TimeNs
	}
	c.ExposedPct = exposedPct(exposed, c.TimeNs)
	if len(steps) > 0 {
		samples := make([]int64, len(steps))
		c.ExposedSamples = make([]float64, len(steps))
		for i, s := range steps {
			samples[i] = s.ExposedNs
			c.ExposedSamples[i] = float64(s.ExposedNs)
		}
		c.ExposedSteps = statOf(samples)
	}
	return out, c
}

// exposedPct is 100·exposed/total, capped at 100.
func exposedPct(exposed, total int64) float64 {
	return min(100, 100*ratio(float64(exposed), float64(total)))
}

// Collectives groups the communication kernels among kernels (those of
// the communication component) by collective, named from the short name or
// else the demangled one: count, summed time and share of all kernel time.
// Sorted by time, longest first, then by name.
func collectives(kernels []Kernel) []Collective {
	var total int64
	byName := map[string]*Collective{}
	for _, k := range kernels {
		total += k.TotalNs
		if k.Component != CompCommunication {
			continue
		}
		name := collectiveName(k.Name)
		if name == CollOther && k.Demangled != "" {
			name = collectiveName(k.Demangled)
		}
		c := byName[name]
		if c == nil {
			c = &Collective{Name: name}
			byName[name] = c
		}
		c.Count += k.Count
		c.TimeNs += k.TotalNs
	}
	out := make([]Collective, 0, len(byName))
	for _, c := range byName {
		c.Share = ratio(float64(c.TimeNs), float64(total))
		out = append(out, *c)
	}
	sortCollectives(out)
	return out
}

func sortCollectives(cs []Collective) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].TimeNs != cs[j].TimeNs {
			return cs[i].TimeNs > cs[j].TimeNs
		}
		return cs[i].Name < cs[j].Name
	})
}

// stepSamples are the steps whose windows per-device detail is measured
// over: the decode steps, or every step (phases by name) when there is no
// decode phase.
func stepSamples(s *Summary) []Step { return steadySteps(s.Phases) }

// steadySteps is stepSamples of phases.
func steadySteps(phases map[string]*Phase) []Step {
	if ph := phases[PhaseDecode]; ph != nil && len(ph.Samples) > 0 {
		return ph.Samples
	}
	var out []Step
	for _, name := range sortedKeys(phases) {
		out = append(out, phases[name].Samples...)
	}
	return out
}
