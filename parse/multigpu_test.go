package parse

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestDeviceAccumulator(t *testing.T) {
	op := func(dev int, s, e int64, c OpClass) DeviceOp {
		return DeviceOp{Device: dev, StartNs: s, EndNs: e, Class: c}
	}
	tests := []struct {
		name   string
		lo, hi int64
		ops    []DeviceOp
		want   []Usage
	}{
		{
			name: "communication after compute is exposed",
			ops:  []DeviceOp{op(0, 0, 10, OpCompute), op(0, 10, 30, OpComm)},
			want: []Usage{{BusyNs: 30, ComputeNs: 10, CommNs: 20, ExposedNs: 20}},
		},
		{
			name: "partly overlapped",
			ops:  []DeviceOp{op(0, 0, 10, OpCompute), op(0, 5, 20, OpComm)},
			want: []Usage{{BusyNs: 20, ComputeNs: 10, CommNs: 15, ExposedNs: 10}},
		},
		{
			name: "hidden behind a long compute kernel on another stream",
			ops:  []DeviceOp{op(0, 0, 100, OpCompute), op(0, 10, 20, OpComm), op(0, 30, 40, OpComm)},
			want: []Usage{{BusyNs: 100, ComputeNs: 100, CommNs: 20, ExposedNs: 0}},
		},
		{
			name: "a memcpy does not hide communication",
			ops:  []DeviceOp{op(0, 0, 100, OpMemory), op(0, 10, 20, OpComm)},
			want: []Usage{{BusyNs: 100, ComputeNs: 0, CommNs: 10, ExposedNs: 10}},
		},
		{
			name: "overlapping communication kernels count once",
			ops:  []DeviceOp{op(0, 0, 10, OpComm), op(0, 5, 15, OpComm), op(0, 12, 14, OpCompute)},
			want: []Usage{{BusyNs: 15, ComputeNs: 2, CommNs: 15, ExposedNs: 13}},
		},
		{
			name: "compute on another device hides nothing",
			ops:  []DeviceOp{op(0, 0, 100, OpCompute), op(1, 10, 20, OpComm), op(1, 50, 60, OpCompute)},
			want: []Usage{{BusyNs: 100, ComputeNs: 100}, {BusyNs: 20, ComputeNs: 10, CommNs: 10, ExposedNs: 10}},
		},
		{
			name: "clipped to the window",
			lo:   5, hi: 25,
			ops:  []DeviceOp{op(0, 0, 10, OpCompute), op(0, 10, 30, OpComm)},
			want: []Usage{{BusyNs: 20, ComputeNs: 5, CommNs: 15, ExposedNs: 15}},
		},
		{
			name: "zero-length ops add nothing",
			ops:  []DeviceOp{op(0, 5, 5, OpComm), op(0, 5, 6, OpCompute)},
			want: []Usage{{BusyNs: 1, ComputeNs: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewDeviceAccumulator(tt.lo, tt.hi, nil)
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
	a, err := NewDeviceAccumulator(100, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []DeviceOp{
		{0, 90, 110, OpCompute},  // starts before the window: not summed, clipped in the union
		{0, 100, 120, OpComm},    // summed
		{0, 150, 160, OpMemory},  // a memory op
		{0, 190, 230, OpCompute}, // summed with its whole duration
		{0, 200, 210, OpCompute}, // starts at the end: outside
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
	steps := []StepWindow{
		{Device: 1, StartNs: 100, EndNs: 200}, // given out of order on purpose
		{Device: 0, StartNs: 0, EndNs: 50},
		{Device: 0, StartNs: 50, EndNs: 100},
		{Device: 0, StartNs: 40, EndNs: 60}, // overlaps both others
		{Device: 2, StartNs: 0, EndNs: 10},  // a device with no ops
	}
	a, err := NewDeviceAccumulator(0, 0, steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []DeviceOp{
		{0, 0, 45, OpCompute},
		{0, 45, 55, OpComm}, // crosses the first two windows
		{1, 100, 150, OpComm},
		{0, 55, 90, OpCompute},
		{1, 120, 130, OpCompute},
		{0, 90, 300, OpComm}, // runs past the last window
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
	if _, err := NewDeviceAccumulator(0, 0, []StepWindow{{0, 10, 5}}); err == nil {
		t.Error("a step window ending before it starts was accepted")
	}
	a, _ := NewDeviceAccumulator(0, 0, nil)
	if err := a.Add(DeviceOp{0, 10, 5, OpCompute}); err == nil {
		t.Error("an op ending before it starts was accepted")
	}
	if err := a.Add(DeviceOp{0, 10, 20, OpCompute}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(DeviceOp{1, 0, 5, OpCompute}); err != nil {
		t.Fatalf("another device may start earlier: %v", err)
	}
	err := a.Add(DeviceOp{0, 9, 20, OpCompute})
	if err == nil || !strings.Contains(err.Error(), "start order") {
		t.Fatalf("out-of-order op: err = %v", err)
	}
	if err := a.Add(DeviceOp{0, 30, 40, OpCompute}); err == nil {
		t.Error("Add after an error succeeded")
	}
}

// TestDeviceAccumulatorRandom checks the streaming unions against counting
// every nanosecond, on random ops.
func TestDeviceAccumulatorRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 200; iter++ {
		const span = 300
		var ops []DeviceOp
		for i := rng.Intn(40); i > 0; i-- {
			s := rng.Int63n(span)
			ops = append(ops, DeviceOp{
				Device:  rng.Intn(3),
				StartNs: s,
				EndNs:   s + rng.Int63n(50),
				Class:   OpClass(rng.Intn(3)),
			})
		}
		var steps []StepWindow
		for i := rng.Intn(6); i > 0; i-- {
			s := rng.Int63n(span)
			steps = append(steps, StepWindow{Device: rng.Intn(3), StartNs: s, EndNs: s + rng.Int63n(100)})
		}
		lo, hi := rng.Int63n(100), 100+rng.Int63n(span)
		SortOps(ops)
		// Interleave devices by start: Add only needs order within a device.
		sorted := append([]DeviceOp(nil), ops...)
		rng.Shuffle(len(sorted), func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] })
		sortByStart(sorted)

		a, err := NewDeviceAccumulator(lo, hi, steps)
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
				t.Fatalf("iter %d step %d %+v: got %+v, want %+v (ops %v)", iter, i, s.StepWindow, s.Usage, want, ops)
			}
		}
	}
}

// sortByStart orders ops by start alone, as a parser reading the kernel
// table ORDER BY start would feed them.
func sortByStart(ops []DeviceOp) {
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].StartNs < ops[j-1].StartNs; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// bruteUsage counts, nanosecond by nanosecond, what device dev did in [lo, hi).
func bruteUsage(ops []DeviceOp, dev int, lo, hi int64) Usage {
	var u Usage
	for ns := lo; ns < hi; ns++ {
		var any, comp, comm bool
		for _, o := range ops {
			if o.Device != dev || ns < o.StartNs || ns >= o.EndNs {
				continue
			}
			any = true
			comp = comp || o.Class == OpCompute
			comm = comm || o.Class == OpComm
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

func TestBuildDevices(t *testing.T) {
	devs := []DeviceUsage{
		{Device: 0, Usage: Usage{BusyNs: 800, CommNs: 200, ExposedNs: 150}, WindowNs: 1000, KernelNs: 900, Kernels: 9, CommKernelNs: 200, CommKernels: 2},
		{Device: 1, Usage: Usage{BusyNs: 600, CommNs: 200, ExposedNs: 50}, WindowNs: 1000, KernelNs: 700, Kernels: 9, CommKernelNs: 200, CommKernels: 2},
	}
	steps := []StepUsage{
		{StepWindow{0, 0, 100}, Usage{ExposedNs: 10}},
		{StepWindow{1, 0, 300}, Usage{ExposedNs: 30}},
		{StepWindow{0, 100, 300}, Usage{ExposedNs: 20}},
	}
	kernels := []Kernel{
		{Name: "gemm", Count: 14, TotalNs: 1200},
		{Name: "ncclDevKernel_AllReduce_Sum_bf16_RING_LL", Component: CompCommunication, Count: 2, TotalNs: 300},
		{Name: "ncclDevKernel_SendRecv", Component: CompCommunication, Count: 2, TotalNs: 100},
	}
	gotDevs, comm := BuildDevices(devs, steps, kernels, "H200")
	wantDevs := []Device{
		{ID: 0, Name: "H200", BusyNs: 800, BusyPct: 80, KernelNs: 900, Kernels: 9, CommNs: 200, Steps: statOf([]int64{100, 200})},
		{ID: 1, Name: "H200", BusyNs: 600, BusyPct: 60, KernelNs: 700, Kernels: 9, CommNs: 200, Steps: statOf([]int64{300})},
	}
	if !reflect.DeepEqual(gotDevs, wantDevs) {
		t.Errorf("devices:\n got %+v\nwant %+v", gotDevs, wantDevs)
	}
	wantComm := &Communication{
		Collectives: []Collective{
			{Name: CollAllReduce, Count: 2, TimeNs: 300, Share: 0.1875},
			{Name: CollSendRecv, Count: 2, TimeNs: 100, Share: 0.0625},
		},
		TimeNs:         400,
		ExposedNs:      200,
		ExposedPct:     50,
		Imbalance:      0.25,
		ExposedSteps:   statOf([]int64{10, 30, 20}),
		ExposedSamples: []float64{10, 30, 20},
	}
	if !reflect.DeepEqual(comm, wantComm) {
		t.Errorf("communication:\n got %+v\nwant %+v", comm, wantComm)
	}

	quiet := []DeviceUsage{{Device: 0, Usage: Usage{BusyNs: 800}, WindowNs: 1000}}
	if _, c := BuildDevices(quiet, nil, kernels[:1], ""); c != nil {
		t.Errorf("communication without any communication: %+v", c)
	}
}
