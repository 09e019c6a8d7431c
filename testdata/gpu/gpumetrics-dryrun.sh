#!/bin/bash
# Runs gpumetrics.sh on a machine without a GPU, with fakes standing in for
# nsys and the Python workload, to check the script's logic before spending
# GPU time. The fake nsys writes real sampled exports from testdata/nsys
# (gm_base1 and gm_base2 for the two base runs, gm_kv_fp32 for --regress
# kv-fp32) and the real gate binary does the rest. From the repository root:
#
#   bash testdata/gpu/gpumetrics-dryrun.sh
#
# It prints the log and the files the script left, and exits non-zero when a
# check fails.
set -eu
tmp=$(mktemp -d /tmp/gate-gm-dryrun.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/fx" "$tmp/out"
go build -o "$tmp/bin/gate" ./cmd/gate
for f in gm_base1 gm_base2 gm_kv_fp32; do
	gzip -dc "testdata/nsys/$f.sqlite.gz" >"$tmp/fx/$f.sqlite"
done
cat >"$tmp/bin/nsys" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "NVIDIA Nsight Systems version fake"; exit 0; }
[ "\$1" = profile ] || exit 9
fx=$tmp/fx/gm_base1.sqlite
case "\$*" in *kv-fp32*) fx=$tmp/fx/gm_kv_fp32.sqlite ;; */base2/*) fx=$tmp/fx/gm_base2.sqlite ;; esac
while [ \$# -gt 0 ]; do case "\$1" in -o) out=\$2; shift 2; break ;; *) shift ;; esac; done
"\$@"; code=\$?
cp "\$fx" "\$out.sqlite"
exit \$code
EOF
cat >"$tmp/bin/python3" <<'EOF'
#!/bin/sh
case "$*" in
-\ *) exec /usr/bin/python3 "$@" ;;
esac
echo '{"tokens_per_s": 493.0}'
EOF
chmod +x "$tmp/bin/"*

OUT=$tmp/out WORK=$tmp/work GATE=$tmp/bin/gate NSYS=$tmp/bin/nsys PY=$tmp/bin/python3 \
	WORKLOAD=.gpu/llm_workload.py BUDGET_S=300 bash testdata/gpu/gpumetrics.sh
echo "---- log"
cat "$tmp/out/log.txt"
echo "---- files"
ls -l "$tmp/out"

fail=0
check() {
	if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
rc() { cat "$tmp/work/$1.rc"; }
check "at most 8 files" '[ $(ls "$tmp/out" | wc -l) -le 8 ]'
check "profiles exit 0" '[ "$(rc base1)$(rc base2)$(rc kv)" = 000 ]'
check "same code passes (exit 0)" '[ "$(rc same)" = 0 ]'
check "kv-fp32 fails (exit 1)" '[ "$(rc kv_md)" = 1 ]'
check "kv-fp32 fails on decode DRAM writes" 'grep -q "gpu_metrics.decode.dram_write_bytes.p50.*❌ fail" "$tmp/out/kv.md"'
check "the HTML charts a typical decode step" 'grep -q "DRAM throughput over a typical decode step" "$tmp/out/kv.html"'
check "figures in the log" 'grep -q "sampled at 10000 Hz" "$tmp/out/log.txt"'
check "parse timed against the scan" 'grep -q "round 1: parse wall [0-9.]* s against the scan wall" "$tmp/out/log.txt"'
check "extras archive" 'xz -dc "$tmp/out/extras.tar.xz" | tar -t | grep -q kv.json'
exit $fail
