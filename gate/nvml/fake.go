package nvml

import "fmt"

// Fake is an in-memory Library for tests: a driver with the given devices,
// or, with Unavailable set, a machine without one.
type Fake struct {
	Unavailable bool
	Driver      string
	CUDA        int
	Devices     []FakeDevice
	// Calls counts Init calls; Open counts Init minus Shutdown.
	Calls, Open int
}

// FakeDevice is a device of a Fake. A zero field reads as "not supported".
type FakeDevice struct {
	Model, ID               string
	BusWidthBits, MaxMemMHz int
	SMMHz, MemMHz           int
	Reasons                 uint64
	TempC                   int
	PIDs                    []uint32
	PCIeGen, PCIeWidth      int
}

var (
	_ Library = (*Fake)(nil)
	_ Device  = (*FakeDevice)(nil)
)

var errNotSupported = fmt.Errorf("not supported")

func (f *Fake) Init() error {
	f.Calls++
	if f.Unavailable {
		return fmt.Errorf("%w: fake machine without a driver", ErrUnavailable)
	}
	f.Open++
	return nil
}

func (f *Fake) Shutdown() { f.Open-- }

func (f *Fake) DriverVersion() (string, error) { return f.Driver, nil }

func (f *Fake) CUDADriverVersion() (int, error) { return f.CUDA, nil }

func (f *Fake) DeviceCount() (int, error) { return len(f.Devices), nil }

func (f *Fake) DeviceByIndex(i int) (Device, error) {
	if i < 0 || i >= len(f.Devices) {
		return nil, fmt.Errorf("device %d: invalid argument", i)
	}
	return &f.Devices[i], nil
}

func (f *Fake) DeviceByUUID(uuid string) (Device, error) {
	for i := range f.Devices {
		if f.Devices[i].ID == uuid {
			return &f.Devices[i], nil
		}
	}
	return nil, fmt.Errorf("device %s: not found", uuid)
}

func orErr[T comparable](v T) (T, error) {
	var zero T
	if v == zero {
		return v, errNotSupported
	}
	return v, nil
}

func (d *FakeDevice) Name() (string, error)               { return orErr(d.Model) }
func (d *FakeDevice) UUID() (string, error)               { return orErr(d.ID) }
func (d *FakeDevice) MemoryBusWidth() (int, error)        { return orErr(d.BusWidthBits) }
func (d *FakeDevice) MaxMemClockMHz() (int, error)        { return orErr(d.MaxMemMHz) }
func (d *FakeDevice) SMClockMHz() (int, error)            { return orErr(d.SMMHz) }
func (d *FakeDevice) MemClockMHz() (int, error)           { return orErr(d.MemMHz) }
func (d *FakeDevice) ClockReasons() (uint64, error)       { return d.Reasons, nil }
func (d *FakeDevice) TemperatureC() (int, error)          { return orErr(d.TempC) }
func (d *FakeDevice) ComputeProcesses() ([]uint32, error) { return d.PIDs, nil }
func (d *FakeDevice) PCIeLink() (int, int, error) {
	if d.PCIeGen == 0 || d.PCIeWidth == 0 {
		return 0, 0, errNotSupported
	}
	return d.PCIeGen, d.PCIeWidth, nil
}

// H200 is a FakeDevice shaped like the H200 the fixtures were recorded on,
// idle: HBM3e at 3201 MHz on the 6016-bit bus CUDA reports, on a PCIe gen 5
// x16 link (the H200 SXM's).
func H200() FakeDevice {
	return FakeDevice{
		Model: "NVIDIA H200", ID: "GPU-5f3c2a1e-0000-4000-8000-000000000200",
		BusWidthBits: 6016, MaxMemMHz: 3201, SMMHz: 345, MemMHz: 3201,
		Reasons: ReasonGPUIdle, TempC: 31, PCIeGen: 5, PCIeWidth: 16,
	}
}
