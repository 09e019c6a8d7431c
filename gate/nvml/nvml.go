// Package nvml reads a GPU's fingerprint through NVML (the driver's
// management library) and turns it into gate's preflight warnings.
//
// It is the only package that imports github.com/NVIDIA/go-nvml. That import
// needs cgo, so it lives in one file built only with cgo on Linux; elsewhere
// (CGO_ENABLED=0, macOS) Open returns a library that reports itself
// unavailable. go-nvml loads libnvidia-ml.so at run time: on a machine without
// a driver, Init fails and the fingerprint says Available=false, never an
// error, so gate runs the same on laptops and CI.
//
// The questions gate asks sit behind two small interfaces, Library and Device;
// Fake answers them in tests. Start reading at Read, which turns a Library
// into the fingerprint, and Preflight, which turns that into warnings.
package nvml

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// ErrUnavailable is returned by Library.Init when NVML cannot be used: no
// driver, no libnvidia-ml.so, or a build without cgo.
var ErrUnavailable = errors.New("NVML unavailable")

// Library is the part of NVML gate uses.
type Library interface {
	// Init loads and initialises NVML; an error wraps ErrUnavailable.
	Init() error
	Shutdown()
	DriverVersion() (string, error)
	// CUDADriverVersion is the CUDA version the driver supports, as NVML
	// encodes it (13000 for 13.0).
	CUDADriverVersion() (int, error)
	DeviceCount() (int, error)
	DeviceByIndex(i int) (Device, error)
	DeviceByUUID(uuid string) (Device, error)
}

// Device is one GPU as NVML describes it.
type Device interface {
	Name() (string, error)
	UUID() (string, error)
	MemoryBusWidth() (int, error) // bits
	MaxMemClockMHz() (int, error)
	SMClockMHz() (int, error)
	MemClockMHz() (int, error)
	// ClockReasons is the bit mask of why clocks are below their maximum
	// (nvmlDeviceGetCurrentClocksEventReasons, formerly "throttle reasons").
	ClockReasons() (uint64, error)
	TemperatureC() (int, error)
	// ComputeProcesses lists the PIDs of processes with a CUDA context on
	// the device.
	ComputeProcesses() ([]uint32, error)
	// PCIeLink is the generation and lane count the device's PCIe link
	// can run at (nvmlDeviceGetMaxPcieLinkGeneration, ...Width): the link
	// that copies to and from the host cross.
	PCIeLink() (gen, width int, err error)
}

// Clock event reasons (nvml.h, nvmlClocksEventReason*), named as gate
// reports them.
const (
	ReasonGPUIdle                  = 0x1
	ReasonApplicationsClockSetting = 0x2
	ReasonSWPowerCap               = 0x4
	ReasonHWSlowdown               = 0x8
	ReasonSyncBoost                = 0x10
	ReasonSWThermalSlowdown        = 0x20
	ReasonHWThermalSlowdown        = 0x40
	ReasonHWPowerBrakeSlowdown     = 0x80
	ReasonDisplayClockSetting      = 0x100
	ReasonBoardLimit               = 0x200
	ReasonReliability              = 0x400
)

var reasonNames = []struct {
	bit  uint64
	name string
}{
	{ReasonGPUIdle, "gpu_idle"},
	{ReasonApplicationsClockSetting, "applications_clocks_setting"},
	{ReasonSWPowerCap, "sw_power_cap"},
	{ReasonHWSlowdown, "hw_slowdown"},
	{ReasonSyncBoost, "sync_boost"},
	{ReasonSWThermalSlowdown, "sw_thermal_slowdown"},
	{ReasonHWThermalSlowdown, "hw_thermal_slowdown"},
	{ReasonHWPowerBrakeSlowdown, "hw_power_brake_slowdown"},
	{ReasonDisplayClockSetting, "display_clock_setting"},
	{ReasonBoardLimit, "board_limit"},
	{ReasonReliability, "reliability"},
}

// decodeReasons names the bits of a clock-reason mask, in bit order; bits
// NVML may add later come out as "reason_0x...".
func decodeReasons(mask uint64) []string {
	var names []string
	for _, r := range reasonNames {
		if mask&r.bit != 0 {
			names = append(names, r.name)
			mask &^= r.bit
		}
	}
	for bit := uint64(1); mask != 0 && bit != 0; bit <<= 1 {
		if mask&bit != 0 {
			names = append(names, fmt.Sprintf("reason_%#x", bit))
			mask &^= bit
		}
	}
	return names
}

// benign are reasons that do not mean the clocks were pulled down under load:
// an idle GPU and clocks set on purpose (application clocks, locked clocks).
var benign = map[string]bool{"gpu_idle": true, "applications_clocks_setting": true}

// peakBandwidth is the peak DRAM bandwidth in bytes/s of memory running at
// maxMemClockMHz on a busWidthBits-wide bus, transferring twice per clock
// (HBM and GDDR are double data rate). 0 when either is unknown.
func peakBandwidth(maxMemClockMHz, busWidthBits int) float64 {
	if maxMemClockMHz <= 0 || busWidthBits <= 0 {
		return 0
	}
	return 2 * float64(maxMemClockMHz) * 1e6 * float64(busWidthBits) / 8
}

// pcieLane is one PCIe lane's data rate in bytes/s per direction, by
// generation, after line encoding (8b/10b to gen 2, 128b/130b from gen 3,
// FLIT from gen 6).
var pcieLane = map[int]float64{1: 0.25e9, 2: 0.5e9, 3: 0.985e9, 4: 1.969e9, 5: 3.938e9, 6: 7.563e9}

// pcieBandwidth is the peak data rate in bytes/s per direction of a PCIe
// link of generation gen with width lanes (gen 5 x16: 63 GB/s); 0 when
// either is unknown.
func pcieBandwidth(gen, width int) float64 {
	if width <= 0 {
		return 0
	}
	return pcieLane[gen] * float64(width)
}

// Read takes the fingerprint of one GPU: gpu is an index ("0") or a UUID
// ("GPU-..."); empty means device 0. It never fails: without NVML the result
// has Available=false; a query the device does not support leaves its field
// empty. The error is for the caller's log only (why NVML was unavailable).
func Read(lib Library, gpu string) (*parse.NVML, error) {
	if err := lib.Init(); err != nil {
		return &parse.NVML{}, err
	}
	defer lib.Shutdown()
	dev, err := lookup(lib, gpu)
	if err != nil {
		return &parse.NVML{}, err
	}
	n := &parse.NVML{Available: true}
	n.Driver, _ = lib.DriverVersion()
	if v, err := lib.CUDADriverVersion(); err == nil && v > 0 {
		n.CUDADriver = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	n.Name, _ = dev.Name()
	n.UUID, _ = dev.UUID()
	n.BusWidthBits, _ = dev.MemoryBusWidth()
	n.MaxMemClockMHz, _ = dev.MaxMemClockMHz()
	n.PeakBandwidth = peakBandwidth(n.MaxMemClockMHz, n.BusWidthBits)
	n.SMClockMHz, _ = dev.SMClockMHz()
	n.MemClockMHz, _ = dev.MemClockMHz()
	if mask, err := dev.ClockReasons(); err == nil {
		n.ThrottleReasons = decodeReasons(mask)
	}
	n.TemperatureC, _ = dev.TemperatureC()
	if pids, err := dev.ComputeProcesses(); err == nil {
		n.OtherProcesses = len(pids)
	}
	if gen, width, err := dev.PCIeLink(); err == nil {
		n.PCIeGen, n.PCIeWidth = gen, width
		n.PCIeBandwidth = pcieBandwidth(gen, width)
	}
	return n, nil
}

func lookup(lib Library, gpu string) (Device, error) {
	gpu = strings.TrimSpace(gpu)
	if strings.HasPrefix(gpu, "GPU-") || strings.HasPrefix(gpu, "MIG-") {
		d, err := lib.DeviceByUUID(gpu)
		if err != nil {
			return nil, fmt.Errorf("GPU %s: %w", gpu, err)
		}
		return d, nil
	}
	i := 0
	if gpu != "" {
		if _, err := fmt.Sscanf(gpu, "%d", &i); err != nil || i < 0 {
			return nil, fmt.Errorf("GPU %q: not an index or a UUID", gpu)
		}
	}
	n, err := lib.DeviceCount()
	if err != nil {
		return nil, err
	}
	if i >= n {
		return nil, fmt.Errorf("GPU %d: only %d device(s)", i, n)
	}
	return lib.DeviceByIndex(i)
}

// GPUFromEnv picks the device a CUDA program would use first: the first
// entry of CUDA_VISIBLE_DEVICES, else device 0.
func GPUFromEnv(getenv func(string) string) string {
	v := getenv("CUDA_VISIBLE_DEVICES")
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// Preflight turns a fingerprint taken before profiling into warnings for the
// report: clocks held down for a reason other than idleness or a deliberate
// clock setting (power or thermal caps skew every time), and other processes
// computing on the GPU (they share it with the workload).
func Preflight(n *parse.NVML) []parse.Warning {
	if n == nil || !n.Available {
		return nil
	}
	var ws []parse.Warning
	var bad []string
	for _, r := range n.ThrottleReasons {
		if !benign[r] {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		ws = append(ws, parse.Warning{
			Code: "gpu_throttled",
			Message: fmt.Sprintf("GPU clocks were held down before profiling (%s; SM %d MHz, memory %d MHz, %d °C): times may be slower than the GPU can run",
				strings.Join(bad, ", "), n.SMClockMHz, n.MemClockMHz, n.TemperatureC),
		})
	}
	if n.OtherProcesses > 0 {
		ws = append(ws, parse.Warning{
			Code:    "gpu_shared",
			Message: fmt.Sprintf("%d other process(es) had a CUDA context on the GPU before profiling: they compete with the workload", n.OtherProcesses),
		})
	}
	return ws
}
