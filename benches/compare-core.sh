#!/usr/bin/env bash
# Compares custodia's signing with Bitcoin Core's on the same PSBTs.
#
# Synthesizes hot-wallet consolidations of the regtest-exchange example vault
# (2-of-3 P2WSH, 1,000 and 10,000 inputs, each with its full previous
# transaction), then times, for each:
#   - custodia: read + review against the policy + sign as key hot-1 + write
#     (in process, as `custodia-signer sign` does after the passphrase);
#   - Bitcoin Core: `descriptorprocesspsbt` with hot-1's private descriptor
#     (one RPC round trip, sign only, no finalize);
# and prints both times and their ratio.
#
# Run from anywhere:  benches/compare-core.sh
# Needs the regtest bitcoind built by scripts/bitcoind (or BITCOIND_EXE, with
# bitcoin-cli beside it) and python3. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

bitcoind=${BITCOIND_EXE:-$(scripts/bitcoind)}
cli="$(dirname "$bitcoind")/bitcoin-cli"
work=$(mktemp -d)
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

echo "building the benchmark helper (release)..." >&2
helper=$(cargo bench --no-run --bench signing 2>&1 | sed -n 's/.*Executable benches\/signing.rs (\(.*\))/\1/p' | tail -1)
[ -x "$helper" ] || { echo "could not find the signing benchmark executable" >&2; exit 3; }

echo "synthesizing PSBTs..." >&2
CUSTODIA_BENCH_EXPORT="$work" "$helper"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir "$work/node"
"$bitcoind" -regtest -datadir="$work/node" -rpcport="$port" -listen=0 -server=1 -daemon=0 \
    -rpcthreads=2 >"$work/node.log" 2>&1 &
pid=$!
rpc() { "$cli" -regtest -datadir="$work/node" -rpcport="$port" -rpcclienttimeout=0 "$@"; }
for _ in $(seq 100); do rpc getblockchaininfo >/dev/null 2>&1 && break; sleep 0.2; done

desc=$(cat "$work/hot-1.desc")
checksum=$(rpc getdescriptorinfo "$desc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checksum"])')

now_ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
printf '%-8s %12s %12s %8s\n' inputs custodia_ms core_ms ratio
for n in 1000 10000; do
    file="$work/psbt-$n.b64"
    descs="[{\"desc\":\"$desc#$checksum\",\"range\":[0,$n]}]"
    custodia_ms=$(CUSTODIA_BENCH_SIGN="$file" "$helper" 2>/dev/null)
    start=$(now_ms)
    printf '%s\n%s\n' "$(cat "$file")" "$descs" | rpc -stdin descriptorprocesspsbt >"$work/core-$n.json"
    core_ms=$(( $(now_ms) - start ))
    ratio=$(python3 -c "print(f'{$core_ms / max($custodia_ms, 1):.2f}x')")
    printf '%-8s %12s %12s %8s\n' "$n" "$custodia_ms" "$core_ms" "$ratio"
done
echo "ratio = Core time / custodia time (above 1: custodia is faster)" >&2
