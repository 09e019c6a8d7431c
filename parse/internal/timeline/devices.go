// Package timeline is the interval algebra behind gate's busy, idle and
// communication figures: unions of GPU ops that arrive in start order, kept
// as running totals so that memory does not grow with the ops (Union, with
// the longest gaps between them in TopGaps), and per-device accounting of
// busy, compute, communication and exposed communication time over a window
// and over step windows (Accumulator). It knows nothing of exports or
// summaries; package parse feeds it.
//
//	acc, err := timeline.NewAccumulator(windowStart, windowEnd, steps)
//	for each GPU op, in start order within each device (devices may interleave):
//		err := acc.Add(timeline.Op{Device: dev, StartNs: s, EndNs: e, Class: timeline.Comm})
//	devices := acc.Devices() // one DeviceUsage per device seen, by id
//	perStep := acc.Steps()   // one StepUsage per step window, in the order given
//
// Memory is O(devices + step windows), whatever the number of ops: each
// union of intervals is kept as a running total and the end of what it
// covers so far, which is exact when intervals arrive in start order. Ops
// out of start order on a device are an error; callers that cannot promise
// the order sort first.
//
// Exposed communication is |comm ∪ compute| - |compute| on each device: the
// part of the union of communication kernels that no compute kernel covers
// (TraceLens' exposed_comm; HTA's comm/compute overlap). Memory copies do
// not hide communication: they count as busy time only.
package timeline

import (
	"fmt"
	"math"
	"sort"
)

// Class says what a GPU op is for the per-device accounting.
type Class uint8

const (
	// Compute is a kernel that is not communication.
	Compute Class = iota
	// Comm is a communication kernel.
	Comm
	// Memory is a memcpy or memset.
	Memory
)

// Op is one GPU op: a kernel, memcpy or memset on one device,
// [StartNs, EndNs).
type Op struct {
	Device  int
	StartNs int64
	EndNs   int64
	Class   Class
}

// Window is a step's time span on one device, [StartNs, EndNs): usually
// the step's projected GPU span (Step.StartNs, Step.StartNs+Step.SpanNs).
type Window struct {
	Device  int
	StartNs int64
	EndNs   int64
}

// Usage is what the ops inside one time span added up to.
type Usage struct {
	BusyNs    int64 // union of all ops
	ComputeNs int64 // union of compute kernels
	CommNs    int64 // union of communication kernels
	ExposedNs int64 // communication not overlapped by compute
}

// DeviceUsage is one device's usage inside the accumulator's window, plus
// the sums of the ops that started inside it (durations not clipped, as
// nsys stats sums kernels of a range).
type DeviceUsage struct {
	Device int
	Usage
	WindowNs     int64 // length of the window the unions were clipped to
	KernelNs     int64 // sum of kernel durations (compute and communication)
	Kernels      int64
	CommKernelNs int64 // sum of communication kernel durations
	CommKernels  int64
	MemoryOps    int64
}

// StepUsage is one step window's usage, the ops clipped to the window.
type StepUsage struct {
	Window
	Usage
}

// usageAcc accumulates the four unions behind a Usage.
type usageAcc struct {
	all, compute, comm, commOrCompute Union
}

func (a *usageAcc) add(class Class, s, e int64) {
	a.all.Add(s, e)
	switch class {
	case Compute:
		a.compute.Add(s, e)
		a.commOrCompute.Add(s, e)
	case Comm:
		a.comm.Add(s, e)
		a.commOrCompute.Add(s, e)
	}
}

func (a *usageAcc) usage() Usage {
	return Usage{
		BusyNs:    a.all.Len(),
		ComputeNs: a.compute.Len(),
		CommNs:    a.comm.Len(),
		ExposedNs: a.commOrCompute.Len() - a.compute.Len(),
	}
}

// deviceAcc is the state of one device.
type deviceAcc struct {
	DeviceUsage
	acc       usageAcc
	lastStart int64
	seen      bool
	// windows are indexes into Accumulator.steps, sorted by start;
	// next is the first not yet opened, active the opened ones that may
	// still meet a later op.
	windows []int
	next    int
	active  []int
}

// Accumulator computes per-device and per-step usage from GPU ops fed
// in start order. The zero value is not usable; see NewAccumulator.
type Accumulator struct {
	lo, hi  int64
	devices map[int]*deviceAcc
	steps   []Window
	stepAcc []usageAcc
	err     error
}

// NewAccumulator returns an accumulator whose device totals are
// clipped to [windowStart, windowEnd) (the summary's scope window; the
// whole timeline when windowEnd <= windowStart) and that also accounts each
// step window. Step windows may overlap and need not be sorted; an op
// counts in every window it meets.
func NewAccumulator(windowStart, windowEnd int64, steps []Window) (*Accumulator, error) {
	a := &Accumulator{
		lo: windowStart, hi: windowEnd,
		devices: map[int]*deviceAcc{},
		steps:   append([]Window(nil), steps...),
		stepAcc: make([]usageAcc, len(steps)),
	}
	if windowEnd <= windowStart {
		a.lo, a.hi = math.MinInt64, math.MaxInt64
	}
	for i, w := range steps {
		if w.EndNs < w.StartNs {
			return nil, fmt.Errorf("step window %d (device %d): ends at %d ns before it starts at %d ns", i, w.Device, w.EndNs, w.StartNs)
		}
		a.device(w.Device).windows = append(a.device(w.Device).windows, i)
	}
	for _, d := range a.devices {
		sort.SliceStable(d.windows, func(i, j int) bool {
			return a.steps[d.windows[i]].StartNs < a.steps[d.windows[j]].StartNs
		})
	}
	return a, nil
}

func (a *Accumulator) device(id int) *deviceAcc {
	d := a.devices[id]
	if d == nil {
		d = &deviceAcc{DeviceUsage: DeviceUsage{Device: id}}
		a.devices[id] = d
	}
	return d
}

// Add accounts one op. Ops must come in start order within each device;
// one that does not is an error, and so is every Add after it.
func (a *Accumulator) Add(op Op) error {
	if a.err != nil {
		return a.err
	}
	if op.EndNs < op.StartNs {
		return fmt.Errorf("device %d: op ends at %d ns before it starts at %d ns", op.Device, op.EndNs, op.StartNs)
	}
	d := a.device(op.Device)
	if d.seen && op.StartNs < d.lastStart {
		a.err = fmt.Errorf("device %d: op starting at %d ns comes after one starting at %d ns: ops must come in start order", op.Device, op.StartNs, d.lastStart)
		return a.err
	}
	d.seen, d.lastStart = true, op.StartNs

	if op.StartNs >= a.lo && op.StartNs < a.hi {
		dur := op.EndNs - op.StartNs
		switch op.Class {
		case Compute:
			d.Kernels++
			d.KernelNs += dur
		case Comm:
			d.Kernels++
			d.KernelNs += dur
			d.CommKernels++
			d.CommKernelNs += dur
		case Memory:
			d.MemoryOps++
		}
	}
	if s, e := clipTo(op.StartNs, op.EndNs, a.lo, a.hi); s < e {
		d.acc.add(op.Class, s, e)
	}

	// Retire windows that ended before this op: later ops start later.
	live := d.active[:0]
	for _, i := range d.active {
		if a.steps[i].EndNs > op.StartNs {
			live = append(live, i)
		}
	}
	d.active = live
	for d.next < len(d.windows) && a.steps[d.windows[d.next]].StartNs < op.EndNs {
		if a.steps[d.windows[d.next]].EndNs > op.StartNs {
			d.active = append(d.active, d.windows[d.next])
		}
		d.next++
	}
	for _, i := range d.active {
		w := a.steps[i]
		if s, e := clipTo(op.StartNs, op.EndNs, w.StartNs, w.EndNs); s < e {
			a.stepAcc[i].add(op.Class, s, e)
		}
	}
	return nil
}

// clipTo returns [s, e) ∩ [lo, hi).
func clipTo(s, e, lo, hi int64) (int64, int64) {
	return max(s, lo), min(e, hi)
}

// Devices returns the usage of every device that had an op or a step
// window, sorted by device id. WindowNs is the window's length, or the
// device's first-op-to-last-op span when the window is unbounded.
func (a *Accumulator) Devices() []DeviceUsage {
	ids := make([]int, 0, len(a.devices))
	for id := range a.devices {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]DeviceUsage, 0, len(ids))
	for _, id := range ids {
		d := a.devices[id]
		u := d.DeviceUsage
		u.Usage = d.acc.usage()
		if a.hi != math.MaxInt64 {
			u.WindowNs = a.hi - a.lo
		}
		out = append(out, u)
	}
	return out
}

// Steps returns the usage of each step window, in the order they were given.
func (a *Accumulator) Steps() []StepUsage {
	out := make([]StepUsage, len(a.steps))
	for i, w := range a.steps {
		out[i] = StepUsage{Window: w, Usage: a.stepAcc[i].usage()}
	}
	return out
}

// Imbalance is the load imbalance across devices, (max-min)/max of their
// busy times, 0..1; 0 for fewer than two devices or no busy time.
func Imbalance(busy []int64) float64 {
	if len(busy) < 2 {
		return 0
	}
	lo, hi := busy[0], busy[0]
	for _, b := range busy[1:] {
		lo, hi = min(lo, b), max(hi, b)
	}
	if hi <= 0 {
		return 0
	}
	return float64(hi-lo) / float64(hi)
}
