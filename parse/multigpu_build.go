package parse

import "sort"

// BuildDevices turns accumulated usage into the Summary's per-device and
// communication fields. kernels are the summary's kernels (their names give
// the collectives); gpuName labels every device. Communication is nil when
// there is no communication kernel at all.
//
// Communication.TimeNs is the summed duration of communication kernels;
// ExposedNs the summed exposed time of all devices; ExposedPct is
// 100·ExposedNs/TimeNs (capped at 100), the share of communication that no
// compute hides. ExposedSamples has one value per step window, in the order
// of steps.
func BuildDevices(devs []DeviceUsage, steps []StepUsage, kernels []Kernel, gpuName string) ([]Device, *Communication) {
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

	colls := Collectives(kernels)
	if len(colls) == 0 && commUnion == 0 {
		return out, nil
	}
	c := &Communication{
		Collectives: colls,
		ExposedNs:   exposed,
		Imbalance:   Imbalance(busy),
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
func Collectives(kernels []Kernel) []Collective {
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
