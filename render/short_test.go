package render

import (
	"testing"
	"unicode/utf8"
)

func TestShortName(t *testing.T) {
	for _, c := range []struct{ full, want string }{
		{sdpa, "cudnn…sdpa_sm80_flash_fprop…"},
		{"nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", "nvjet_sm90_tst…h_bz_coopA_NNT"},
		{"void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl_nocast<at::native::<unnamed>::where_kernel_impl>", "elementwise_kernel<…where_kernel_impl>"},
		{"void at::native::vectorized_elementwise_kernel<(int)4, at::native::CUDAFunctor_add<c10::BFloat16>, at::detail::Array<char *, (int)3>>(int, T2, T3)", "vectorized_elementwise<…CUDAFunctor_add>"},
		{"short_kernel_name", "short_kernel_name"},
	} {
		got := shortName(c.full, maxShort)
		if got != c.want {
			t.Errorf("shortName(%.40q) = %q, want %q", c.full, got, c.want)
		}
		if utf8.RuneCountInString(got) > maxShort {
			t.Errorf("shortName(%.40q) = %q: %d runes, more than %d", c.full, got, utf8.RuneCountInString(got), maxShort)
		}
	}
}

// Two kernels that would look alike keep more of their names.
func TestNamesApart(t *testing.T) {
	a := "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"
	b := "nvjet_sm90_tst_128x128_64x4_1x2_h_bz_coopA_NNT"
	nm := newNames([]string{a, b, sdpa, a, ""})
	if nm.short(a) == nm.short(b) {
		t.Errorf("%q and %q both show as %q", a, b, nm.short(a))
	}
	if nm.short(sdpa) != shortName(sdpa, maxShort) {
		t.Errorf("a name without a twin lost its short form: %q", nm.short(sdpa))
	}
}
