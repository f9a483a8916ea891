#!/bin/sh
# backends.sh - step times of every example under the C and LLVM backends.
#
#   bench/backends.sh [BATCH...]     (run from the repository root after make)
#
# For each examples/*.dl it builds bench/step_time.c three ways over the
# model's C API: on the C backend's NAME.c at plain cc -O2, on the same
# NAME.c compiled as dlc compiles a trainer (-O2 -march=native
# -fno-math-errno), and on the LLVM backend's NAME.o (dlc -O2: LLVM's
# default<O2> for the host CPU).
# It prints microseconds per step (NAME_loss_grad then NAME_step), the
# median of five rounds, at the train clause's batch size and at each
# BATCH given, and the C trainer build's time over the LLVM one's.
# Work goes to build/bench-backends/.
set -eu

DLC=${DLC:-build/dlc}
CC=${CC:-cc}
OUT=build/bench-backends
rm -rf "$OUT"
mkdir -p "$OUT"

"$DLC" --version
printf '%-12s %6s %12s %12s %12s %8s\n' model batch "C -O2" \
	"C trainer" "LLVM -O2" "C/LLVM"
for model in examples/*.dl; do
	name=$(basename "$model" .dl)
	dir=$OUT/$name
	mkdir -p "$dir/c" "$dir/llvm"
	"$DLC" --emit=c --name="$name" "$model" -o "$dir/c/"
	"$DLC" --emit=obj --backend=llvm --name="$name" "$model" \
		-o "$dir/llvm/$name.o"
	common="-std=c11 -D_POSIX_C_SOURCE=200809L -DMODEL=$name -include \
$dir/c/$name.h -I$dir/c bench/step_time.c"
	$CC $common -O2 "$dir/c/$name.c" -lm -o "$dir/c/step_o2"
	$CC $common -O2 -march=native -fno-math-errno "$dir/c/$name.c" -lm \
		-o "$dir/c/step_native"
	$CC $common -O2 "$dir/llvm/$name.o" -lm -o "$dir/llvm/step"
	default=$(sed -n "s/^#define ${name}_BATCH \([0-9]*\)/\1/p" \
		"$dir/c/$name.h")
	for batch in "$default" "$@"; do
		c=$("$dir/c/step_o2" "$batch")
		n=$("$dir/c/step_native" "$batch")
		l=$("$dir/llvm/step" "$batch")
		printf '%-12s %6s %12s %12s %12s %8.2f\n' "$name" "$batch" \
			"$c" "$n" "$l" "$(awk "BEGIN { print $n / $l }")"
	done
done
