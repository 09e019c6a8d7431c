package parse

import (
	"fmt"
	"strings"
	"testing"
)

// overlapWarning returns the count the overlapping_steps warning gives, 0
// without one.
func overlapWarning(t *testing.T, s *Summary) int {
	t.Helper()
	n := 0
	for _, w := range s.Warnings {
		if w.Code == WarnOverlappingStep {
			if _, err := fmt.Sscanf(w.Message, "%d ", &n); err != nil {
				t.Fatalf("warning %q: %v", w.Message, err)
			}
		}
	}
	return n
}

// TestOverlappingStepsPerRank: the steps of two ranks (another process on
// another device, as torchrun runs a tensor-parallel job) overlap in time
// by design, which is no overlap of steps; within one rank a step whose
// GPU work runs on into the following steps is. On the assembled two-rank
// probe, rank 0's prefill made to end 1 s later overlaps rank 0's four
// decode steps, and rank 1's steps stay out of the count.
func TestOverlappingStepsPerRank(t *testing.T) {
	path := mgAssembleTP(t, 2)
	s := mustExport(t, path, Options{})
	byDevice := map[int][]Step{}
	for _, ph := range s.Phases {
		for _, st := range ph.Samples {
			byDevice[st.Device] = append(byDevice[st.Device], st)
		}
	}
	if len(byDevice[0]) != 5 || len(byDevice[1]) != 5 {
		t.Fatalf("steps by device %v, want 5 on each rank", byDevice)
	}
	crossed := false
	for _, a := range byDevice[0] {
		for _, b := range byDevice[1] {
			crossed = crossed || a.StartNs < b.StartNs+b.SpanNs && b.StartNs < a.StartNs+a.SpanNs
		}
	}
	if !crossed {
		t.Fatal("no step of rank 0 overlaps one of rank 1: the fixture no longer tests anything")
	}
	if n := overlapWarning(t, s); n != 0 {
		t.Errorf("two ranks running at once: %d overlapping steps, want none", n)
	}

	// The last kernel launched inside rank 0's prefill range.
	execSQL(t, path, `UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = end + 1000000000 WHERE deviceId = 0 AND correlationId = (
		SELECT max(r.correlationId) FROM CUPTI_ACTIVITY_KIND_RUNTIME r, NVTX_EVENTS n
		WHERE n.eventType = 59 AND coalesce(n.text, (SELECT value FROM StringIds WHERE id = n.textId)) = 'prefill'
		AND n.globalTid = r.globalTid AND r.start BETWEEN n.start AND n.end
		AND r.correlationId IN (SELECT correlationId FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE deviceId = 0))`)
	s = mustExport(t, path, Options{})
	if n := overlapWarning(t, s); n != 4 {
		var ws []string
		for _, w := range s.Warnings {
			ws = append(ws, w.Message)
		}
		t.Errorf("rank 0's prefill spilling over its decode steps: %d overlapping steps, want 4 (%s)", n, strings.Join(ws, "; "))
	}
}
