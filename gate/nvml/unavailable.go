//go:build !cgo || !linux

package nvml

// Open returns a Library that is never available: this build has no cgo (or
// is not Linux), so go-nvml cannot load the driver library.
func Open() Library { return unavailable{} }

type unavailable struct{}

var _ Library = unavailable{}

func (unavailable) Init() error                         { return ErrUnavailable }
func (unavailable) Shutdown()                           {}
func (unavailable) DriverVersion() (string, error)      { return "", ErrUnavailable }
func (unavailable) CUDADriverVersion() (int, error)     { return 0, ErrUnavailable }
func (unavailable) DeviceCount() (int, error)           { return 0, ErrUnavailable }
func (unavailable) DeviceByIndex(int) (Device, error)   { return nil, ErrUnavailable }
func (unavailable) DeviceByUUID(string) (Device, error) { return nil, ErrUnavailable }
