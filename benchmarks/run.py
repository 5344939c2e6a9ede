"""Run every Habeas benchmark and print one table of medians and ratios (``make bench``).

Usage: ``python benchmarks/run.py [--postgres] [--runs N] [--profile] [--json F]
[--only ledger|admissions|billing|contact]``. Each benchmark can also be run alone
(``python benchmarks/bench_ledger.py``, ``python benchmarks/bench_admissions.py``); see
docs/benchmarks.md for what is measured and the latest results.
"""

from __future__ import annotations

import sys
import time

import _common as common
import bench_admissions
import bench_billing
import bench_conditions
import bench_contact
import bench_ledger

BENCHMARKS = {
    "ledger": bench_ledger,
    "admissions": bench_admissions,
    "billing": bench_billing,
    "conditions": bench_conditions,
    "contact": bench_contact,
}


def main() -> int:
    p = common.parser(__doc__.splitlines()[0], 0)
    p.set_defaults(runs=None)
    for action in p._actions:
        if action.dest == "runs":
            action.help = (
                "repetitions of each measurement (default: each benchmark's own, "
                + (", ".join(f"{n} {m.DEFAULT_RUNS}" for n, m in BENCHMARKS.items()))
                + "; the median is quoted)"
            )
    p.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this")
    args = p.parse_args()
    names = args.only or list(BENCHMARKS)
    env = common.Env(postgres=args.postgres).setup()
    started = time.perf_counter()
    reports = []
    try:
        machine = common.machine_info(env)
        for name in names:
            module = BENCHMARKS[name]
            runs = args.runs or module.DEFAULT_RUNS
            reports.append(module.run(env, runs, args.profile))
    finally:
        env.close()
    print()
    common.print_machine(machine)
    print(f"total wall time of the benchmark run: {time.perf_counter() - started:.0f} s")
    print()
    common.print_reports(reports)
    common.write_json(args.json, machine, reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
