package parse

import (
	"fmt"
	"strings"
)

// Comparable lists why two profiles were not measured the same way, so
// that neither compare (base against head) nor MergeRanks (the ranks of one
// run) puts them side by side: a different GPU model or chip, device count,
// CUDA-graph trace mode, Nsight Systems major version, scope window or way
// of finding steps (NVTX ranges, or inferred: the steps of two methods are
// not cut alike).
// Numbers from two such profiles differ for reasons no code change caused
// (graph-mode tracing, for one, hides graph kernels from the kernel table).
// Reasons call a "base" and b "head". A fingerprint field one side lacks
// (legacy summaries, exports without TARGET_INFO_GPU) is not checked; it is
// named in unchecked.
func Comparable(a, b *Summary) (reasons, unchecked []string) {
	check := func(what, x, y string) {
		switch {
		case x == "" || y == "":
			if x != y {
				unchecked = append(unchecked, what)
			}
		case x != y:
			reasons = append(reasons, fmt.Sprintf("%s differs: base %q, head %q", what, x, y))
		}
	}
	check("GPU model", a.GPU.Name, b.GPU.Name)
	if a.GPU.Name == b.GPU.Name && a.GPU.Chip != "" && b.GPU.Chip != "" && a.GPU.Chip != b.GPU.Chip {
		reasons = append(reasons, fmt.Sprintf("GPU chip differs: base %q, head %q", a.GPU.Chip, b.GPU.Chip))
	}
	if a.GPU.Devices > 0 && b.GPU.Devices > 0 {
		if a.GPU.Devices != b.GPU.Devices {
			reasons = append(reasons, fmt.Sprintf("device count differs: base %d, head %d", a.GPU.Devices, b.GPU.Devices))
		}
	} else if a.GPU.Devices != b.GPU.Devices {
		unchecked = append(unchecked, "device count")
	}
	check("CUDA-graph trace mode", a.Source.TraceMode, b.Source.TraceMode)
	check("Nsight Systems major version", NsysMajor(a.Source.NsysVersion), NsysMajor(b.Source.NsysVersion))
	// An empty scope means the whole capture; legacy summaries never say.
	if a.Source.Legacy || b.Source.Legacy {
		if a.Source.Scope != b.Source.Scope {
			unchecked = append(unchecked, "scope")
		}
	} else if a.Source.Scope != b.Source.Scope {
		reasons = append(reasons, fmt.Sprintf("scope differs: base %q, head %q", scopeName(a.Source.Scope), scopeName(b.Source.Scope)))
	}
	if x, y := stepSource(a), stepSource(b); x != "" && y != "" && x != y {
		why := fmt.Sprintf("steps found differently: base by %s, head by %s", StepSourceName(x), StepSourceName(y))
		switch {
		case x == StepsNVTX:
			why += ": were the head's NVTX step ranges removed?"
		case y == StepsNVTX:
			why += ": name the base's steps with NVTX ranges too"
		case x == StepsGraph:
			why += ": the head's steps no longer replay CUDA graphs; name the steps with NVTX ranges to judge that change"
		case y == StepsGraph:
			why += ": the head's steps replay CUDA graphs and the base's did not; name the steps with NVTX ranges to judge that change"
		}
		reasons = append(reasons, why)
	}
	return reasons, unchecked
}

// stepSource is how a summary's steps were found; summaries written before
// Source.StepSource existed found them by NVTX ranges only.
func stepSource(s *Summary) string {
	if s.Source.StepSource != "" {
		return s.Source.StepSource
	}
	for _, ph := range s.Phases {
		if ph != nil && ph.Steps > 0 && !s.Source.Legacy {
			return StepsNVTX
		}
	}
	return ""
}

// StepSourceName says how steps were found, for people.
func StepSourceName(src string) string {
	switch src {
	case StepsNVTX:
		return "NVTX step ranges"
	case StepsGraph:
		return "inference from CUDA-graph launches"
	case StepsSync:
		return "inference from host synchronisations"
	case StepsRepeat:
		return "inference from a repeating launch sequence"
	case "":
		return "(none found)"
	}
	return src
}

func scopeName(s string) string {
	if s == "" {
		return "(whole capture)"
	}
	return s
}

// NsysMajor is the major version of an Nsight Systems version string: its
// first dot-separated field ("2025.3.1.90-..." gives "2025"), which is when
// the export layout may change.
func NsysMajor(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}
