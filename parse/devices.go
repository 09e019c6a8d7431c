package parse

import "context"

// deviceUsage is what the per-device pass found: usage per device and per
// step window, or the reason it could not be accounted.
type deviceUsage struct {
	devices []DeviceUsage
	steps   []StepUsage
	err     error
}

// readDevices accounts busy, communication and exposed time per device (the
// DeviceAccumulator of multigpu.go) over the window and the spans of the
// steady-state steps (stepSamples: the decode steps, else every step), on
// the device each step ran on. The step spans are known only once every op
// was projected, so this is a second pass over the ops, in start order
// again.
func (p *profile) readDevices(ctx context.Context, s *schema, ks *kernelScan, small []gpuOp) error {
	var windows []StepWindow
	for _, st := range steadySteps(p.phases()) {
		if st.SpanNs > 0 {
			windows = append(windows, StepWindow{Device: st.Device, StartNs: st.StartNs, EndNs: st.StartNs + st.SpanNs})
		}
	}
	lo, hi := p.window()
	p.devs = &deviceUsage{}
	acc, err := NewDeviceAccumulator(lo, hi, windows)
	if err != nil {
		p.devs.err = err
		return nil
	}
	add := func(op *gpuOp) {
		if p.devs.err != nil {
			return
		}
		if _, inScope, _ := p.project(op, false); !inScope {
			return
		}
		p.devs.err = acc.Add(DeviceOp{Device: int(op.device), StartNs: op.start, EndNs: op.end, Class: p.acc.opClass(op)})
	}
	bad, counted := p.bad[tKernel] // by the first pass
	err = p.eachOp(ctx, s.db, ks, small, add)
	if err == errUnordered {
		acc, _ = NewDeviceAccumulator(lo, hi, windows)
		p.devs.err = nil
		err = p.sortedOps(ctx, s.db, ks, small, add)
	}
	delete(p.bad, tKernel)
	if counted {
		p.bad[tKernel] = bad
	}
	if err != nil {
		return err
	}
	p.devs.devices, p.devs.steps = acc.Devices(), acc.Steps()
	return nil
}

// deviceList turns the per-device usage into the summary's device count,
// devices (only for several) and communication. kernels are the summary's.
func (p *profile) deviceList(kernels []Kernel) (int, []Device, *Communication) {
	if p.devs.err != nil {
		p.warnf("devices", "per-device accounting skipped: %v", p.devs.err)
		return 0, nil, nil
	}
	out, comm := BuildDevices(p.devs.devices, p.devs.steps, kernels, p.gpu.Name)
	n := len(p.devs.devices)
	if n < 2 {
		out = nil
	}
	return n, out, comm
}
