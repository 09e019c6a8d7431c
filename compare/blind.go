package compare

import (
	"fmt"

	"github.com/nsys-gate/gate/parse"
)

// blind lists what the base measured and the head lacks, reasons first: a
// phase without steps, a step count that collapsed, steps that hold no GPU
// work, GPU work that falls outside every step, and whole metric families
// (devices, communication, bandwidth, extra metrics). A head like that did
// not measure the workload; judging it would pass every metric it lost (a
// decode phase that vanished cannot regress), so the comparison is not
// comparable instead. The usual causes are the capture (NVTX ranges not
// emitted, left open when the capture was cut, recorded on another thread
// than the launches) and the command line (a missing --extra or ncu CSV).
func blind(base, head *parse.Summary) []string {
	var reasons []string
	for _, pn := range phaseNames(base.Phases) {
		if why := blindPhase(pn, base.Phases[pn], head.Phases[pn]); why != "" {
			reasons = append(reasons, why)
		}
	}
	if why := blindOutsideSteps(base, head); why != "" {
		reasons = append(reasons, why)
	}
	return append(reasons, blindFamilies(base, head)...)
}

// blindPhase says why head's phase pn did not measure what base's did.
func blindPhase(pn string, bp, hp *parse.Phase) string {
	if bp == nil || bp.Steps == 0 {
		return ""
	}
	switch {
	case hp == nil || hp.Steps == 0:
		return fmt.Sprintf("head has no %s steps (base: %d): were the NVTX step ranges removed or left open?", pn, bp.Steps)
	case 2*hp.Steps < bp.Steps:
		return fmt.Sprintf("head has %d %s steps, base %d: was the capture cut short, or were step ranges left open?", hp.Steps, pn, bp.Steps)
	}
	be, hn := emptySteps(bp.Samples), len(hp.Samples)
	if he := emptySteps(hp.Samples); hn > 0 && 2*he > hn && 2*be <= len(bp.Samples) {
		return fmt.Sprintf("%d of head's %d %s steps hold no GPU work (base: %s kernels per step): "+
			"are the step ranges empty, or opened on another thread than the CUDA launches (is the runtime traced)?", he, hn, pn, fmtMean(bp.Kernels.Mean, bp.Samples))
	}
	return ""
}

// emptySteps counts steps to which no GPU op was attributed.
func emptySteps(steps []parse.Step) int {
	n := 0
	for _, x := range steps {
		if x.Kernels == 0 && x.Memcpys == 0 && x.BusyNs <= 0 {
			n++
		}
	}
	return n
}

// fmtMean is the mean kernels per step of samples (or the summary's mean).
func fmtMean(mean float64, steps []parse.Step) string {
	if len(steps) > 0 {
		sum := 0
		for _, x := range steps {
			sum += x.Kernels
		}
		mean = float64(sum) / float64(len(steps))
	}
	return fmt.Sprintf("%.4g", mean)
}

// blindOutsideSteps says so when most of head's kernel time falls outside
// every step while base's did not (less than half of base's share inside).
func blindOutsideSteps(base, head *parse.Summary) string {
	bf, bok := insideSteps(base)
	hf, hok := insideSteps(head)
	if !bok || !hok || bf == 0 || hf >= bf/2 {
		return ""
	}
	return fmt.Sprintf("most of head's GPU work falls outside every step (%.0f%% of kernel time inside steps, base %.0f%%): "+
		"are the NVTX ranges on the thread that launches the work, and is its CUDA runtime traced?", 100*hf, 100*bf)
}

// insideSteps is the share of a summary's kernel time that its steps hold;
// false where it cannot be told (no samples, no kernels).
func insideSteps(s *parse.Summary) (float64, bool) {
	var in, all float64
	for _, ph := range s.Phases {
		if ph == nil {
			continue
		}
		for _, x := range ph.Samples {
			if x.KernelNs > 0 {
				in += float64(x.KernelNs)
			}
		}
	}
	for _, k := range s.Kernels {
		if k.TotalNs > 0 {
			all += float64(k.TotalNs)
		}
	}
	if all == 0 || s.Source.Legacy {
		return 0, false
	}
	return min(in/all, 1), true
}

// blindFamilies names the metric families base has and head lacks entirely.
func blindFamilies(base, head *parse.Summary) []string {
	var reasons []string
	if n := len(base.Devices); n > 0 && len(head.Devices) == 0 {
		reasons = append(reasons, fmt.Sprintf("head has no per-device data (base: %d devices): was it parsed from the same set of exports?", n))
	}
	if base.Communication != nil && head.Communication == nil {
		reasons = append(reasons, fmt.Sprintf("head has no NCCL communication (base: %d collectives): did the workload run on one GPU only?", len(base.Communication.Collectives)))
	}
	if base.Bandwidth != nil && len(base.Bandwidth.Kernels) > 0 && (head.Bandwidth == nil || len(head.Bandwidth.Kernels) == 0) {
		reasons = append(reasons, fmt.Sprintf("head has no Nsight Compute bandwidth (base: %d kernels): was the ncu run skipped or its CSV not given?", len(base.Bandwidth.Kernels)))
	}
	if why := blindGPUMetrics(base, head); why != "" {
		reasons = append(reasons, why)
	}
	if n := len(base.Extra); n > 0 && len(head.Extra) == 0 {
		reasons = append(reasons, fmt.Sprintf("head has none of base's %d extra metrics: was --extra (or the benchmark's output) left out?", n))
	}
	return reasons
}

// blindGPUMetrics says so when base sampled the GPU's counters in a phase
// and head did not: its DRAM traffic per step cannot be judged. Head's own
// warning (nsys refused the option) says why, where it has one.
func blindGPUMetrics(base, head *parse.Summary) string {
	if base.GPUMetrics == nil {
		return ""
	}
	for _, bp := range base.GPUMetrics.Phases {
		if bp.Steps == 0 {
			continue
		}
		if hp := head.GPUMetrics.Phase(bp.Phase); hp != nil && hp.Steps > 0 {
			continue
		}
		why := fmt.Sprintf("head has no GPU-metrics samples in its %s steps (base: %d steps sampled at %.0f Hz)", bp.Phase, bp.Steps, base.GPUMetrics.FrequencyHz)
		for _, w := range head.Warnings {
			if w.Code == parse.WarnNoGPUMetrics {
				return why + ": " + w.Message
			}
		}
		return why + ": was it profiled with --gpu-metrics=false, or exported from a report without them?"
	}
	return ""
}
