package compare

import (
	"fmt"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// Comparable lists why base and head must not be judged against each other:
// a different GPU model, device count, CUDA-graph trace mode, Nsight Systems
// major version or scope window. Numbers from two such profiles differ for
// reasons no code change caused (graph-mode tracing, for one, hides graph
// kernels from the kernel table), so gate says "not comparable" instead of
// passing or failing. A fingerprint field one side lacks (legacy summaries,
// exports without TARGET_INFO_GPU) is not checked; the caller is told through
// unchecked.
func Comparable(base, head *parse.Summary) (reasons, unchecked []string) {
	check := func(what, b, h string) {
		switch {
		case b == "" || h == "":
			if b != h {
				unchecked = append(unchecked, what)
			}
		case b != h:
			reasons = append(reasons, fmt.Sprintf("%s differs: base %q, head %q", what, b, h))
		}
	}
	check("GPU model", base.GPU.Name, head.GPU.Name)
	if base.GPU.Devices > 0 && head.GPU.Devices > 0 {
		if base.GPU.Devices != head.GPU.Devices {
			reasons = append(reasons, fmt.Sprintf("device count differs: base %d, head %d", base.GPU.Devices, head.GPU.Devices))
		}
	} else if base.GPU.Devices != head.GPU.Devices {
		unchecked = append(unchecked, "device count")
	}
	check("CUDA-graph trace mode", base.Source.TraceMode, head.Source.TraceMode)
	check("Nsight Systems major version", nsysMajor(base.Source.NsysVersion), nsysMajor(head.Source.NsysVersion))
	// An empty scope means the whole capture; legacy summaries never say.
	if base.Source.Legacy || head.Source.Legacy {
		if base.Source.Scope != head.Source.Scope {
			unchecked = append(unchecked, "scope")
		}
	} else if base.Source.Scope != head.Source.Scope {
		reasons = append(reasons, fmt.Sprintf("scope differs: base %q, head %q", scopeName(base.Source.Scope), scopeName(head.Source.Scope)))
	}
	return reasons, unchecked
}

func scopeName(s string) string {
	if s == "" {
		return "(whole capture)"
	}
	return s
}

// nsysMajor is the major version of an Nsight Systems version string: its
// first dot-separated field ("2025.3.1.90-..." gives "2025"), which is when
// the export layout may change.
func nsysMajor(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}
