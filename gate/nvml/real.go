//go:build cgo && linux

package nvml

import (
	"fmt"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Open returns the system's NVML, loaded from libnvidia-ml.so when Init runs.
func Open() Library { return &library{lib: gonvml.New()} }

// library adapts go-nvml to Library.
type library struct {
	lib gonvml.Interface
	// eventReasons: the driver has nvmlDeviceGetCurrentClocksEventReasons
	// (R535+); older ones only have the throttle-reasons call. go-nvml binds
	// symbols lazily, so calling a missing one would crash: look it up first.
	eventReasons bool
}

var _ Library = (*library)(nil)

func check(what string, r gonvml.Return) error {
	if r == gonvml.SUCCESS {
		return nil
	}
	return fmt.Errorf("%s: %s", what, gonvml.ErrorString(r))
}

func (l *library) Init() (err error) {
	defer func() {
		// go-nvml dlopens the driver library; whatever goes wrong there means
		// "no NVML here", never a crash of gate.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, p)
		}
	}()
	if r := l.lib.Init(); r != gonvml.SUCCESS {
		return fmt.Errorf("%w: %s", ErrUnavailable, r.String())
	}
	l.eventReasons = l.lib.Extensions().LookupSymbol("nvmlDeviceGetCurrentClocksEventReasons") == nil
	return nil
}

func (l *library) Shutdown() { l.lib.Shutdown() }

func (l *library) DriverVersion() (string, error) {
	v, r := l.lib.SystemGetDriverVersion()
	return v, check("driver version", r)
}

func (l *library) CUDADriverVersion() (int, error) {
	v, r := l.lib.SystemGetCudaDriverVersion()
	return v, check("CUDA driver version", r)
}

func (l *library) DeviceCount() (int, error) {
	n, r := l.lib.DeviceGetCount()
	return n, check("device count", r)
}

func (l *library) DeviceByIndex(i int) (Device, error) {
	d, r := l.lib.DeviceGetHandleByIndex(i)
	if err := check(fmt.Sprintf("device %d", i), r); err != nil {
		return nil, err
	}
	return &device{d: d, eventReasons: l.eventReasons}, nil
}

func (l *library) DeviceByUUID(uuid string) (Device, error) {
	d, r := l.lib.DeviceGetHandleByUUID(uuid)
	if err := check("device "+uuid, r); err != nil {
		return nil, err
	}
	return &device{d: d, eventReasons: l.eventReasons}, nil
}

// device adapts a go-nvml device handle to Device.
type device struct {
	d            gonvml.Device
	eventReasons bool
}

var _ Device = (*device)(nil)

func (d *device) Name() (string, error) {
	v, r := d.d.GetName()
	return v, check("name", r)
}

func (d *device) UUID() (string, error) {
	v, r := d.d.GetUUID()
	return v, check("UUID", r)
}

func (d *device) MemoryBusWidth() (int, error) {
	v, r := d.d.GetMemoryBusWidth()
	return int(v), check("memory bus width", r)
}

func (d *device) MaxMemClockMHz() (int, error) {
	v, r := d.d.GetMaxClockInfo(gonvml.CLOCK_MEM)
	return int(v), check("max memory clock", r)
}

func (d *device) SMClockMHz() (int, error) {
	v, r := d.d.GetClockInfo(gonvml.CLOCK_SM)
	return int(v), check("SM clock", r)
}

func (d *device) MemClockMHz() (int, error) {
	v, r := d.d.GetClockInfo(gonvml.CLOCK_MEM)
	return int(v), check("memory clock", r)
}

func (d *device) ClockReasons() (uint64, error) {
	if d.eventReasons {
		v, r := d.d.GetCurrentClocksEventReasons()
		return v, check("clock event reasons", r)
	}
	v, r := d.d.GetCurrentClocksThrottleReasons()
	return v, check("clock throttle reasons", r)
}

func (d *device) TemperatureC() (int, error) {
	v, r := d.d.GetTemperature(gonvml.TEMPERATURE_GPU)
	return int(v), check("temperature", r)
}

func (d *device) PCIeLink() (gen, width int, err error) {
	g, r := d.d.GetMaxPcieLinkGeneration()
	if err := check("PCIe link generation", r); err != nil {
		return 0, 0, err
	}
	w, r := d.d.GetMaxPcieLinkWidth()
	return g, w, check("PCIe link width", r)
}

func (d *device) ComputeProcesses() ([]uint32, error) {
	ps, r := d.d.GetComputeRunningProcesses()
	if err := check("compute processes", r); err != nil {
		return nil, err
	}
	pids := make([]uint32, len(ps))
	for i, p := range ps {
		pids[i] = p.Pid
	}
	return pids, nil
}
