#!/bin/sh
# compile_scaling.sh - dlc's compile time at -O2 against program size, for
# a deep chain and a wide sum of 1k, 10k and 100k operations.  Prints a
# table: time should grow about tenfold per row, not a hundredfold.
set -e
cd "$(dirname "$0")/.."
DLC=${DLC:-build/dlc}
dir=${TMPDIR:-/tmp}/dlc-bench-scaling
mkdir -p "$dir"
printf '%-6s %8s %10s %12s %14s\n' kind ops seconds "us per op" "C bytes"
for kind in chain wide; do
	for n in 1000 10000 100000; do
		bench/gen_chain.sh $kind $n > "$dir/$kind$n.dl"
		start=$(date +%s.%N)
		$DLC -O2 --emit=c -o "$dir/" "$dir/$kind$n.dl"
		end=$(date +%s.%N)
		bytes=$(wc -c < "$dir/$kind$n.c")
		awk -v k=$kind -v n=$n -v s="$start" -v e="$end" -v b="$bytes" \
			'BEGIN { printf "%-6s %8d %10.3f %12.2f %14d\n", k, n,
				e - s, (e - s) * 1e6 / n, b }'
	done
done
