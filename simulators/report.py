"""Plots and the 60-day table in ``simulators/README.md``: ``python -m simulators.report``.

- ``simulators/img/cnc_run_to_failure.png`` / ``robot_run_to_failure.png``: every signal of one
  machine (hourly means of running samples) until its slowest mode fails, failures marked,
  with the hidden state drawn for the reader (it is never published);
- ``simulators/img/summary_60d.md`` / ``.json``: failures per mode, MTBF, defect rate,
  energy per part over 60 simulated days of the default plant.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from contracts.plant import FAILURE_MODES, Plant, load_plant
from simulators.physics.line import Line

HERE = Path(__file__).resolve().parent
COLOURS = {"tool_wear": "tab:orange", "spindle_bearing": "tab:red", "coolant": "tab:blue",
           "reducer_wear": "tab:red", "gripper_leak": "tab:blue", "servo_overheat": "tab:orange"}


def run_to_failure(plant: Plant, machine_id: str, mode: str, seed: int, max_days: int = 60) -> dict:
    """Hourly series of one machine until ``mode`` first fails (other failures are repaired on the way)."""
    line = Line(plant, seed=seed)
    m = line.machines[machine_id]
    hours: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures: list[tuple[float, str]] = []
    while (m.now - line.start).days < max_days:
        sample, events = m.tick()
        h = int((sample.ts - line.start).total_seconds() // 3600)
        if sample.state == "running":
            for name, v in sample.signals.items():
                if v is not None:
                    hours[h][name].append(v)
            for name, v in m.physics.hidden().items():
                hours[h]["hidden:" + name].append(v)
        hit = [e.mode for e in events if e.kind == "failure"]
        failures += [((sample.ts - line.start).total_seconds() / 86400, f) for f in hit]
        if mode in hit:
            break
    return {"hours": hours, "failures": failures}


def plot_run(series: dict, title: str, path: Path) -> None:
    hours = series["hours"]
    names = sorted({n for h in hours.values() for n in h})
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 1.5 * len(names)), sharex=True)
    for ax, name in zip(axes, names, strict=False):
        xs = sorted(h for h in hours if hours[h].get(name))
        ys = [sum(hours[h][name]) / len(hours[h][name]) for h in xs]
        ax.plot([x / 24 for x in xs], ys, lw=0.8, color="black" if not name.startswith("hidden") else "grey")
        ax.set_ylabel(name.replace("hidden:", "hidden: ").replace("_", " "), fontsize=7, rotation=0,
                      ha="right", va="center")
        ax.tick_params(labelsize=7)
        for day, mode in series["failures"]:
            ax.axvline(day, color=COLOURS.get(mode, "grey"), lw=0.6, alpha=0.7)
    axes[-1].set_xlabel("simulated days (hourly means of running samples; lines = failures: "
                        + ", ".join(sorted({m for _, m in series["failures"]})) + ")", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def summary(plant: Plant, days: int, seed: int) -> dict:
    """Failures per mode, MTBF, defect rate and energy per part over ``days`` of the whole plant."""
    line = Line(plant, seed=seed)
    fails: Counter[str] = Counter()
    running_h: Counter[str] = Counter()
    down_h: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    energy: Counter[str] = Counter()
    kind = {m.id: m.kind for m in plant.machines()}
    for samples, events in line.run(line.start + timedelta(days=days), chunk=timedelta(days=1)):
        for s in samples:
            k = kind[s.machine_id]
            running_h[k] += (s.state == "running") / 60
            down_h[k] += (s.state == "down") / 60
        for e in events:
            if e.kind == "failure":
                fails[e.mode] += 1
            elif e.kind == "part_completed":
                k = kind[e.machine_id]
                parts[k] += 1
                bad[k] += not e.good
                energy[k] += e.energy_kwh
    out: dict = {"days": days, "seed": seed, "modes": {}, "kinds": {}}
    for k, modes in FAILURE_MODES.items():
        n = len(plant.machines(k))
        for mode in modes:
            out["modes"][mode] = {"kind": k, "machines": n, "failures": fails[mode],
                                  "per_machine": round(fails[mode] / n, 2) if n else 0,
                                  "mtbf_h": round(running_h[k] / fails[mode], 1) if fails[mode] else None}
        out["kinds"][k] = {"parts": parts[k], "defect_rate": round(bad[k] / parts[k], 4) if parts[k] else None,
                           "energy_per_part_kwh": round(energy[k] / parts[k], 4) if parts[k] else None,
                           "running_share": round(running_h[k] / (n * days * 24), 3) if n else None,
                           "down_share": round(down_h[k] / (n * days * 24), 3) if n else None}
    return out


def markdown(s: dict) -> str:
    rows = ["| kind | failure mode | failures | per machine | MTBF (running h) |", "|---|---|---|---|---|"]
    for mode, v in s["modes"].items():
        rows.append(f"| {v['kind']} | {mode} | {v['failures']} | {v['per_machine']} | {v['mtbf_h']} |")
    rows += ["", "| kind | parts | defect rate | energy per part (kWh) | running | down (unplanned) |",
             "|---|---|---|---|---|---|"]
    for k, v in s["kinds"].items():
        rows.append(f"| {k} | {v['parts']:,} | {v['defect_rate']:.2%} | {v['energy_per_part_kwh']} | "
                    f"{v['running_share']:.1%} | {v['down_share']:.1%} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.report", description=__doc__)
    ap.add_argument("--plant", default=str(HERE / "plants" / "demo.yaml"))
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(HERE / "img"))
    args = ap.parse_args(argv)
    plant, out = load_plant(args.plant), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for kind, mode in (("cnc", "spindle_bearing"), ("robot", "reducer_wear")):
        mid = plant.machines(kind)[0].id
        plot_run(run_to_failure(plant, mid, mode, args.seed), f"{mid}: signals until {mode} failure (seed {args.seed})",
                 out / f"{kind}_run_to_failure.png")
    s = summary(plant, args.days, args.seed)
    (out / "summary_60d.json").write_text(json.dumps(s, indent=2) + "\n")
    (out / "summary_60d.md").write_text(markdown(s))
    print(markdown(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
