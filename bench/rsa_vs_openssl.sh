#!/usr/bin/env bash
# RSA-2048 sign/s and verify/s of goldplan (aws-lc-rs, through the SDK's own entry points)
# next to `openssl speed rsa2048`, measured in one run on this machine, and the ratios.
# Goal: goldplan >= 0.9x OpenSSL for both operations.
#
# Usage: bash bench/rsa_vs_openssl.sh          (from anywhere; honours CARGO_TARGET_DIR)
#   RSA_BENCH_SECONDS  seconds per operation per round (default 3)
#   RSA_BENCH_ROUNDS   rounds; goldplan and openssl alternate, the median is reported (default 3)
# Both sides are single-threaded. The run takes about 4 x SECONDS x ROUNDS seconds after the
# build. The report is also written to bench/out/rsa_vs_openssl.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${RSA_BENCH_SECONDS:-3}"
rounds="${RSA_BENCH_ROUNDS:-3}"
case "$seconds$rounds" in
  *[!0-9]*) echo "RSA_BENCH_SECONDS and RSA_BENCH_ROUNDS must be whole numbers" >&2; exit 2 ;;
esac
command -v openssl >/dev/null || { echo "openssl is not on PATH" >&2; exit 2; }

echo "building the goldplan RSA speed probe (bench profile)..." >&2
exe=$(cargo bench -p goldplan --bench rsa_speed --locked --no-run --message-format=json \
  | grep -o '"executable":"[^"]*rsa_speed[^"]*"' | tail -n 1 | cut -d'"' -f4)
[ -x "$exe" ] || { echo "could not find the rsa_speed bench executable" >&2; exit 1; }

# field=value from a line of our probe, e.g. `value sign_per_s`.
value() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

ours_sign=() ours_verify=() ossl_sign=() ossl_verify=()
for round in $(seq 1 "$rounds"); do
  out=$("$exe" --seconds "$seconds")
  ours_sign+=("$(echo "$out" | grep 'sign_per_s=' | value sign_per_s)")
  ours_verify+=("$(echo "$out" | grep 'verify_per_s=' | value verify_per_s)")
  # Machine-readable `openssl speed`: +F2:<index>:<bits>:<sign/s>:<verify/s>
  f2=$(openssl speed -mr -seconds "$seconds" rsa2048 2>/dev/null | grep '^+F2:')
  ossl_sign+=("$(echo "$f2" | cut -d: -f4)")
  ossl_verify+=("$(echo "$f2" | cut -d: -f5)")
  echo "round $round/$rounds: goldplan sign/s ${ours_sign[-1]} verify/s ${ours_verify[-1]};" \
    "openssl sign/s ${ossl_sign[-1]} verify/s ${ossl_verify[-1]}" >&2
done

os=$(printf '%s\n' "${ours_sign[@]}" | median)
ov=$(printf '%s\n' "${ours_verify[@]}" | median)
ss=$(printf '%s\n' "${ossl_sign[@]}" | median)
sv=$(printf '%s\n' "${ossl_verify[@]}" | median)

mkdir -p bench/out
awk -v os="$os" -v ov="$ov" -v ss="$ss" -v sv="$sv" -v n="$rounds" -v s="$seconds" \
    -v ossl="$(openssl version)" -v cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2-)" '
BEGIN {
  rs = os / ss; rv = ov / sv
  printf "RSA-2048 PKCS#1 v1.5, single thread, median of %d rounds x %d s per operation\n", n, s
  printf "machine:%s; %s\n", cpu, ossl
  printf "%-10s %12s %12s\n", "", "sign/s", "verify/s"
  printf "%-10s %12.1f %12.1f\n", "goldplan", os, ov
  printf "%-10s %12.1f %12.1f\n", "openssl", ss, sv
  printf "%-10s %12.3f %12.3f   (goal >= 0.900)\n", "ratio", rs, rv
  printf "result goldplan_sign_per_s=%.1f goldplan_verify_per_s=%.1f openssl_sign_per_s=%.1f openssl_verify_per_s=%.1f sign_ratio=%.3f verify_ratio=%.3f\n", os, ov, ss, sv, rs, rv
  if (rs < 0.9 || rv < 0.9) print "below the 0.9x goal (this machine is shared and noisy: re-run before concluding)"
}' | tee bench/out/rsa_vs_openssl.txt
