package nvml

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

func TestPeakBandwidth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mhz, bits int
		want, tol float64
	}{
		// Datasheets: H200 4.8 TB/s, H100 SXM 3.35 TB/s, A100 80GB 2.04 TB/s.
		{"H200", 3201, 6016, 4.814e12, 0.001e12}, // the bus width CUDA reports; TARGET_INFO_GPU says 4.814e12
		{"H100 SXM", 2619, 5120, 3.35e12, 0.02e12},
		{"A100 80GB", 1593, 5120, 2.04e12, 0.01e12},
		{"unknown clock", 0, 5120, 0, 0},
		{"unknown bus", 1593, 0, 0, 0},
	} {
		if got := peakBandwidth(tc.mhz, tc.bits); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: peakBandwidth(%d, %d) = %.4g, want %.4g", tc.name, tc.mhz, tc.bits, got, tc.want)
		}
	}
}

func TestDecodeReasons(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want []string
	}{
		{0, nil},
		{ReasonGPUIdle, []string{"gpu_idle"}},
		{ReasonSWPowerCap | ReasonHWThermalSlowdown, []string{"sw_power_cap", "hw_thermal_slowdown"}},
		{ReasonReliability | 1<<20, []string{"reliability", "reason_0x100000"}},
	} {
		if got := decodeReasons(tc.mask); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeReasons(%#x) = %q, want %q", tc.mask, got, tc.want)
		}
	}
}

func TestReadFake(t *testing.T) {
	f := &Fake{Driver: "580.159.04", CUDA: 13000, Devices: []FakeDevice{H200()}}
	n, err := Read(f, "")
	if err != nil {
		t.Fatal(err)
	}
	want := &parse.NVML{
		Available: true, Name: "NVIDIA H200", UUID: "GPU-5f3c2a1e-0000-4000-8000-000000000200",
		Driver: "580.159.04", CUDADriver: "13.0", BusWidthBits: 6016, MaxMemClockMHz: 3201,
		PeakBandwidth: 2 * 3201e6 * 6016 / 8, SMClockMHz: 345, MemClockMHz: 3201,
		ThrottleReasons: []string{"gpu_idle"}, TemperatureC: 31,
		PCIeGen: 5, PCIeWidth: 16, PCIeBandwidth: 16 * 3.938e9,
	}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("Read:\n got %+v\nwant %+v", n, want)
	}
	if f.Open != 0 {
		t.Errorf("NVML left initialised (%d)", f.Open)
	}
	if w := Preflight(n); len(w) != 0 {
		t.Errorf("an idle GPU gave warnings: %v", w)
	}
}

func TestReadSelectsDevice(t *testing.T) {
	second := H200()
	second.ID, second.Model = "GPU-second", "NVIDIA H100 80GB HBM3"
	f := &Fake{Devices: []FakeDevice{H200(), second}}
	for gpu, want := range map[string]string{"1": "NVIDIA H100 80GB HBM3", "GPU-second": "NVIDIA H100 80GB HBM3", "0": "NVIDIA H200", "": "NVIDIA H200"} {
		n, err := Read(f, gpu)
		if err != nil || n.Name != want {
			t.Errorf("Read(%q) = %q, %v; want %q", gpu, n.Name, err, want)
		}
	}
	for _, gpu := range []string{"2", "GPU-none", "x"} {
		n, err := Read(f, gpu)
		if err == nil || n == nil || n.Available {
			t.Errorf("Read(%q) = %+v, %v; want unavailable with an error", gpu, n, err)
		}
	}
	if f.Open != 0 {
		t.Errorf("NVML left initialised (%d)", f.Open)
	}
}

func TestReadUnavailable(t *testing.T) {
	n, err := Read(&Fake{Unavailable: true}, "")
	if n == nil || n.Available || !errors.Is(err, ErrUnavailable) {
		t.Errorf("Read = %+v, %v; want Available=false and ErrUnavailable", n, err)
	}
	if Preflight(n) != nil {
		t.Error("warnings for an unavailable NVML")
	}
}

// On this machine (CI, laptops) there may be no driver: the real library must
// then say unavailable, not fail or crash; with a driver it must find a GPU.
func TestOpenReal(t *testing.T) {
	n, err := Read(Open(), "")
	if n == nil {
		t.Fatal("nil fingerprint")
	}
	if !n.Available {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("unavailable without ErrUnavailable: %v", err)
		}
		t.Skipf("no NVML here: %v", err)
	}
	if n.Name == "" || n.Driver == "" {
		t.Errorf("NVML available but empty: %+v", n)
	}
}

func TestPreflight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reasons []string
		others  int
		want    []string
	}{
		{"idle", []string{"gpu_idle"}, 0, nil},
		{"locked clocks", []string{"applications_clocks_setting"}, 0, nil},
		{"power capped", []string{"gpu_idle", "sw_power_cap"}, 0, []string{"gpu_throttled"}},
		{"hot and shared", []string{"hw_thermal_slowdown"}, 2, []string{"gpu_throttled", "gpu_shared"}},
		{"shared", nil, 1, []string{"gpu_shared"}},
	} {
		n := &parse.NVML{Available: true, ThrottleReasons: tc.reasons, OtherProcesses: tc.others, SMClockMHz: 1200}
		var codes []string
		for _, w := range Preflight(n) {
			codes = append(codes, w.Code)
			if w.Code == "gpu_throttled" && (strings.Contains(w.Message, "gpu_idle") || !strings.Contains(w.Message, "1200 MHz")) {
				t.Errorf("%s: message %q", tc.name, w.Message)
			}
		}
		if !reflect.DeepEqual(codes, tc.want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, codes, tc.want)
		}
	}
}

func TestGPUFromEnv(t *testing.T) {
	for env, want := range map[string]string{"": "", "3": "3", "GPU-abc,1": "GPU-abc", " 2 , 0": "2"} {
		got := GPUFromEnv(func(k string) string {
			if k == "CUDA_VISIBLE_DEVICES" {
				return env
			}
			return ""
		})
		if got != want {
			t.Errorf("CUDA_VISIBLE_DEVICES=%q: %q, want %q", env, got, want)
		}
	}
}

// PCIe's peak per direction, after line encoding: the figures PCI-SIG
// quotes (gen 3 x16 15.8 GB/s, gen 4 x16 31.5 GB/s, gen 5 x16 63 GB/s).
func TestPCIeBandwidth(t *testing.T) {
	for _, c := range []struct {
		gen, width int
		want       float64
	}{{3, 16, 15.76e9}, {4, 16, 31.5e9}, {5, 16, 63.0e9}, {5, 8, 31.5e9}, {0, 16, 0}, {5, 0, 0}, {9, 16, 0}} {
		if got := pcieBandwidth(c.gen, c.width); math.Abs(got-c.want) > 0.01e9 {
			t.Errorf("pcieBandwidth(%d, %d) = %.4g, want %.4g", c.gen, c.width, got, c.want)
		}
	}
}
