#!/bin/bash
# Runs e2e.sh on a machine without a GPU, with fakes standing in for nsys, ncu
# and the Python workload, to check the script's logic before spending GPU
# time. The fake nsys writes real exports from testdata/nsys (base_a for the
# baseline, regress_double_attn for --regress double-attn, probe otherwise),
# the fake ncu writes testdata/ncu/ncu_baseline.csv, and the real gate binary
# does the rest. From the repository root:
#
#   bash testdata/gpu/dryrun.sh
#
# It prints the log and the files e2e.sh left, and exits non-zero when a
# check fails.
set -eu
root=$(pwd)
tmp=$(mktemp -d /tmp/gate-dryrun.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/fx" "$tmp/out"
go build -o "$tmp/bin/gate" ./cmd/gate
for f in base_a regress_double_attn probe; do
	gzip -dc "testdata/nsys/$f.sqlite.gz" >"$tmp/fx/$f.sqlite"
done
gzip -dc testdata/ncu/ncu_baseline.csv.gz >"$tmp/fx/ncu.csv"

cat >"$tmp/bin/nsys" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "NVIDIA Nsight Systems version fake"; exit 0; }
[ "\$1" = profile ] || exit 9
fx=$tmp/fx/probe.sqlite
case "\$*" in *double-attn*) fx=$tmp/fx/regress_double_attn.sqlite ;; *llm_workload.py) fx=$tmp/fx/base_a.sqlite ;; esac
while [ \$# -gt 0 ]; do case "\$1" in -o) out=\$2; shift 2; break ;; *) shift ;; esac; done
"\$@"; code=\$?
cp "\$fx" "\$out.sqlite"
exit \$code
EOF
cat >"$tmp/bin/ncu" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "NVIDIA Nsight Compute fake"; exit 0; }
while [ \$# -gt 0 ]; do case "\$1" in --log-file) log=\$2; shift 2; break ;; *) shift ;; esac; done
"\$@"; code=\$?
cp $tmp/fx/ncu.csv "\$log"
exit \$code
EOF
cat >"$tmp/bin/python3" <<'EOF'
#!/bin/sh
case "$*" in
*sys.exit\(3\)*) echo "failing on purpose"; exit 3 ;;
-\ *) exec /usr/bin/python3 "$@" ;;
-c*) echo "3.12 fake-torch 13.0"; exit 0 ;;
esac
echo '{"tokens_per_s": 493.0}'
EOF
chmod +x "$tmp/bin/"*

OUT=$tmp/out WORK=$tmp/work GATE=$tmp/bin/gate NSYS=$tmp/bin/nsys NCU=$tmp/bin/ncu \
	PY=$tmp/bin/python3 WORKLOAD=.gpu/llm_workload.py BUDGET_S=300 \
	bash testdata/gpu/e2e.sh
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
check "base profile exit 0" '[ "$(rc base)" = 0 ]'
check "double-attn profile exit 0" '[ "$(rc double_attn)" = 0 ]'
check "compare fails (exit 1)" '[ "$(rc compare)" = 1 ]'
check "compare names decode" 'grep -q -i decode "$tmp/out/compare.md"'
check "compare names attention" 'grep -q -i attention "$tmp/out/compare.md"'
check "failing workload: gate exit 2" '[ "$(rc failing)" = 2 ]'
check "failing workload: code 3 reported" 'grep -q "exited with code 3" "$tmp/work/failing.out"'
check "ncu summary has bandwidth" 'grep -q "\"bandwidth\"" "$tmp/out/ncu.summary.json"'
check "bench export compressed" '[ -s "$tmp/out/bench.sqlite.xz" ]'
check "extras archive" 'xz -dc "$tmp/out/extras.tar.xz" | tar -t | grep -q ncu_ncu.csv'
check "gpu.txt has the preflight" 'grep -q "\"nvml\"" "$tmp/out/gpu.txt"'
exit $fail
