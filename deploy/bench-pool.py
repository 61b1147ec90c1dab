#!/usr/bin/python3
"""Pools the latency samples of several runs of deploy/bench-datapaths.sh (each run with SAMPLES=DIR).

    bench-pool.py [--boot N] DIR [DIR ...]

A p99 taken from one run's 1,000–2,000 round trips moves by tens of microseconds from run to run on a shared machine,
so a single run says little about whether the added p99 is under the target. This pools the samples of all runs
(every run's round trips together, per set-up and measure) and prints, for each data path and measure:
  - the added latency (daemon − kernel) at p50 and p99 of each run, and of the pooled samples;
  - a 95% bootstrap interval for the pooled added p99: the runs' samples are resampled with replacement, each run
    within itself (a stratified bootstrap), N times (default 1000), and the 2.5th and 97.5th percentiles of the
    resampled added p99 are given. Seeded: the same input gives the same output.
Measures: ping (ping's RTT), wire (paired round trips timed at the client's NIC), each as the machine is and with
PM QoS (cpu_dma_latency 0). Only what all the given runs measured is shown ("floor", the userspace floor, has
wire samples only).
"""
import os
import random
import sys

PATHS = [("bridge", "dbridge", "kbridge"), ("bridge poll", "dbridgep", "kbridge"), ("floor", "floor", "kbridge"),
         ("NFQUEUE", "dnfq", "krouting"), ("NFQUEUE poll", "dnfqp", "krouting")]
MEASURES = [("ping", "ping.{d}", "ping.{k}"), ("ping, PM QoS", "ping-pmqos.{d}", "ping-pmqos.{k}"),
            ("wire", "wire.{d}.daemon", "wire.{d}.kernel"), ("wire, PM QoS", "wire-pmqos.{d}.daemon", "wire-pmqos.{d}.kernel")]
TARGET_US = 100


def quantile(sorted_values, p):
    """The bench's own quantile: the value at index floor(p * n)."""
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def load(path):
    with open(path) as f:
        return [float(line) for line in f if line.strip()]


def added(daemon, kernel, p):
    return quantile(sorted(daemon), p) - quantile(sorted(kernel), p)


def main(argv):
    boot = 1000
    if len(argv) >= 2 and argv[0] == "--boot":
        boot = int(argv[1])
        argv = argv[2:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for d in argv:
        if not os.path.isdir(d):
            print(f"{d}: not a directory of samples (run bench-datapaths.sh with SAMPLES={d})", file=sys.stderr)
            return 2
    rng = random.Random(20261121)
    print(f"{len(argv)} runs: " + ", ".join(argv))
    for d in argv:
        info = os.path.join(d, "info")
        if os.path.exists(info):
            print("   " + open(info).read().strip())
    print(f"added latency (daemon − kernel) in µs; pooled p99 with a 95% bootstrap interval ({boot} resamples); target p99 < {TARGET_US}")
    for title, dkey, kkey in PATHS:
        for mname, dpat, kpat in MEASURES:
            files = [(os.path.join(r, dpat.format(d=dkey, k=kkey)), os.path.join(r, kpat.format(d=dkey, k=kkey))) for r in argv]
            if not all(os.path.exists(a) and os.path.exists(b) for a, b in files):
                continue
            runs = [(load(a), load(b)) for a, b in files]
            if any(not a or not b for a, b in runs):
                continue
            per_run = " ".join(f"{added(a, b, 0.5):+.0f}/{added(a, b, 0.99):+.0f}" for a, b in runs)
            pooled_d = [x for a, _ in runs for x in a]
            pooled_k = [x for _, b in runs for x in b]
            p50 = added(pooled_d, pooled_k, 0.5)
            p99 = added(pooled_d, pooled_k, 0.99)
            samples = []
            for _ in range(boot):
                rd, rk = [], []
                for a, b in runs:
                    rd += rng.choices(a, k=len(a))
                    rk += rng.choices(b, k=len(b))
                samples.append(added(rd, rk, 0.99))
            samples.sort()
            lo, hi = quantile(samples, 0.025), quantile(samples, 0.975)
            verdict = "met" if hi < TARGET_US else "not met" if lo >= TARGET_US else "unclear"
            print(f"   {title:<12} {mname:<13} runs p50/p99 [ {per_run} ]   pooled p50 {p50:+.0f}  p99 {p99:+.0f} "
                  f"(95%: {lo:+.0f} to {hi:+.0f})  n={len(pooled_d)}/{len(pooled_k)}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
