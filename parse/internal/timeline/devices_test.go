package timeline

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestDeviceAccumulator(t *testing.T) {
	op := func(dev int, s, e int64, c Class) Op {
		return Op{Device: dev, StartNs: s, EndNs: e, Class: c}
	}
	tests := []struct {
		name   string
		lo, hi int64
		ops    []Op
		want   []Usage
	}{
		{
			name: "communication after compute is exposed",
			ops:  []Op{op(0, 0, 10, Compute), op(0, 10, 30, Comm)},
			want: []Usage{{BusyNs: 30, ComputeNs: 10, CommNs: 20, ExposedNs: 20}},
		},
		{
			name: "partly overlapped",
			ops:  []Op{op(0, 0, 10, Compute), op(0, 5, 20, Comm)},
			want: []Usage{{BusyNs: 20, ComputeNs: 10, CommNs: 15, ExposedNs: 10}},
		},
		{
			name: "hidden behind a long compute kernel on another stream",
			ops:  []Op{op(0, 0, 100, Compute), op(0, 10, 20, Comm), op(0, 30, 40, Comm)},
			want: []Usage{{BusyNs: 100, ComputeNs: 100, CommNs: 20, ExposedNs: 0}},
		},
		{
			name: "a memcpy does not hide communication",
			ops:  []Op{op(0, 0, 100, Memory), op(0, 10, 20, Comm)},
			want: []Usage{{BusyNs: 100, ComputeNs: 0, CommNs: 10, ExposedNs: 10}},
		},
		{
			name: "overlapping communication kernels count once",
			ops:  []Op{op(0, 0, 10, Comm), op(0, 5, 15, Comm), op(0, 12, 14, Compute)},
			want: []Usage{{BusyNs: 15, ComputeNs: 2, CommNs: 15, ExposedNs: 13}},
		},
		{
			name: "compute on another device hides nothing",
			ops:  []Op{op(0, 0, 100, Compute), op(1, 10, 20, Comm), op(1, 50, 60, Compute)},
			want: []Usage{{BusyNs: 100, ComputeNs: 100}, {BusyNs: 20, ComputeNs: 10, CommNs: 10, ExposedNs: 10}},
		},
		{
			name: "clipped to the window",
			lo:   5, hi: 25,
			ops:  []Op{op(0, 0, 10, Compute), op(0, 10, 30, Comm)},
			want: []Usage{{BusyNs: 20, ComputeNs: 5, CommNs: 15, ExposedNs: 15}},
		},
		{
			name: "zero-length ops add nothing",
			ops:  []Op{op(0, 5, 5, Comm), op(0, 5, 6, Compute)},
			want: []Usage{{BusyNs: 1, ComputeNs: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAccumulator(tt.lo, tt.hi, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range tt.ops {
				if err := a.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			var got []Usage
			for _, d := range a.Devices() {
				got = append(got, d.Usage)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDeviceAccumulatorSums(t *testing.T) {
	a, err := NewAccumulator(100, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Op{
		{0, 90, 110, Compute},  // starts before the window: not summed, clipped in the union
		{0, 100, 120, Comm},    // summed
		{0, 150, 160, Memory},  // a memory op
		{0, 190, 230, Compute}, // summed with its whole duration
		{0, 200, 210, Compute}, // starts at the end: outside
	} {
		if err := a.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	got := a.Devices()
	want := []DeviceUsage{{
		Device:   0,
		Usage:    Usage{BusyNs: 20 + 10 + 10, ComputeNs: 10 + 10, CommNs: 20, ExposedNs: 10},
		WindowNs: 100, KernelNs: 20 + 40, Kernels: 2, CommKernelNs: 20, CommKernels: 1, MemoryOps: 1,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDeviceAccumulatorSteps(t *testing.T) {
	steps := []Window{
		{Device: 1, StartNs: 100, EndNs: 200}, // given out of order on purpose
		{Device: 0, StartNs: 0, EndNs: 50},
		{Device: 0, StartNs: 50, EndNs: 100},
		{Device: 0, StartNs: 40, EndNs: 60}, // overlaps both others
		{Device: 2, StartNs: 0, EndNs: 10},  // a device with no ops
	}
	a, err := NewAccumulator(0, 0, steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Op{
		{0, 0, 45, Compute},
		{0, 45, 55, Comm}, // crosses the first two windows
		{1, 100, 150, Comm},
		{0, 55, 90, Compute},
		{1, 120, 130, Compute},
		{0, 90, 300, Comm}, // runs past the last window
	} {
		if err := a.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	want := []StepUsage{
		{steps[0], Usage{BusyNs: 50, ComputeNs: 10, CommNs: 50, ExposedNs: 40}},
		{steps[1], Usage{BusyNs: 50, ComputeNs: 45, CommNs: 5, ExposedNs: 5}},
		{steps[2], Usage{BusyNs: 50, ComputeNs: 35, CommNs: 15, ExposedNs: 15}},
		{steps[3], Usage{BusyNs: 20, ComputeNs: 10, CommNs: 10, ExposedNs: 10}},
		{steps[4], Usage{}},
	}
	if got := a.Steps(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if n := len(a.Devices()); n != 3 {
		t.Errorf("%d devices, want 3 (one has only a step window)", n)
	}
}

func TestDeviceAccumulatorErrors(t *testing.T) {
	if _, err := NewAccumulator(0, 0, []Window{{0, 10, 5}}); err == nil {
		t.Error("a step window ending before it starts was accepted")
	}
	a, _ := NewAccumulator(0, 0, nil)
	if err := a.Add(Op{0, 10, 5, Compute}); err == nil {
		t.Error("an op ending before it starts was accepted")
	}
	if err := a.Add(Op{0, 10, 20, Compute}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(Op{1, 0, 5, Compute}); err != nil {
		t.Fatalf("another device may start earlier: %v", err)
	}
	err := a.Add(Op{0, 9, 20, Compute})
	if err == nil || !strings.Contains(err.Error(), "start order") {
		t.Fatalf("out-of-order op: err = %v", err)
	}
	if err := a.Add(Op{0, 30, 40, Compute}); err == nil {
		t.Error("Add after an error succeeded")
	}
}

// TestDeviceAccumulatorRandom checks the streaming unions against counting
// every nanosecond, on random ops.
func TestDeviceAccumulatorRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 200; iter++ {
		const span = 300
		var ops []Op
		for i := rng.Intn(40); i > 0; i-- {
			s := rng.Int63n(span)
			ops = append(ops, Op{
				Device:  rng.Intn(3),
				StartNs: s,
				EndNs:   s + rng.Int63n(50),
				Class:   Class(rng.Intn(3)),
			})
		}
		var steps []Window
		for i := rng.Intn(6); i > 0; i-- {
			s := rng.Int63n(span)
			steps = append(steps, Window{Device: rng.Intn(3), StartNs: s, EndNs: s + rng.Int63n(100)})
		}
		lo, hi := rng.Int63n(100), 100+rng.Int63n(span)
		// Interleave devices by start: Add only needs order within a device.
		sorted := append([]Op(nil), ops...)
		rng.Shuffle(len(sorted), func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] })
		sortByStart(sorted)

		a, err := NewAccumulator(lo, hi, steps)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range sorted {
			if err := a.Add(o); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range a.Devices() {
			if want := bruteUsage(ops, d.Device, lo, hi); d.Usage != want {
				t.Fatalf("iter %d device %d: got %+v, want %+v (ops %v)", iter, d.Device, d.Usage, want, ops)
			}
		}
		for i, s := range a.Steps() {
			if want := bruteUsage(ops, s.Device, s.StartNs, s.EndNs); s.Usage != want {
				t.Fatalf("iter %d step %d %+v: got %+v, want %+v (ops %v)", iter, i, s.Window, s.Usage, want, ops)
			}
		}
	}
}

// sortByStart orders ops by start alone, as a parser reading the kernel
// table ORDER BY start would feed them.
func sortByStart(ops []Op) {
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].StartNs < ops[j-1].StartNs; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// bruteUsage counts, nanosecond by nanosecond, what device dev did in [lo, hi).
func bruteUsage(ops []Op, dev int, lo, hi int64) Usage {
	var u Usage
	for ns := lo; ns < hi; ns++ {
		var any, comp, comm bool
		for _, o := range ops {
			if o.Device != dev || ns < o.StartNs || ns >= o.EndNs {
				continue
			}
			any = true
			comp = comp || o.Class == Compute
			comm = comm || o.Class == Comm
		}
		if any {
			u.BusyNs++
		}
		if comp {
			u.ComputeNs++
		}
		if comm {
			u.CommNs++
			if !comp {
				u.ExposedNs++
			}
		}
	}
	return u
}

func TestImbalance(t *testing.T) {
	tests := []struct {
		busy []int64
		want float64
	}{
		{nil, 0},
		{[]int64{100}, 0},
		{[]int64{100, 100}, 0},
		{[]int64{100, 75}, 0.25},
		{[]int64{50, 100, 75}, 0.5},
		{[]int64{0, 0}, 0},
	}
	for _, tt := range tests {
		if got := Imbalance(tt.busy); got != tt.want {
			t.Errorf("Imbalance(%v) = %v, want %v", tt.busy, got, tt.want)
		}
	}
}
