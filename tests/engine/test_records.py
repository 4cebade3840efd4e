"""What a stored trial holds: the searched genes as params, the rest compactly, times of
its evaluation; and studies in the layout earlier versions wrote stay readable."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from ssropt.engine.records import (
    ASSIGNMENT_PARAMS_KEY,
    CONSTRAINT_NAMES_KEY,
    GENOME_KEY,
    trial_records,
)
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.outputs.front import all_rows, front_rows
from ssropt.outputs.rows import trial_feasible
from ssropt.spaces import SpaceOptions
from ssropt.storage import TrialRecord, open_storage, write_trials
from ssropt.strategies import make_strategy
from ssropt.strategies.base import constraint_names

WORKLOAD = {"model": "deit-t", "tokens": 32, "blocks": 2, "embed_and_head": False}
NODES = ["q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2"]
#: the user attributes every trial carries (plus the resource totals)
USER = {"images_per_s", "power_w", "energy_j_per_image", "images_per_s_per_w", "n_accelerators"}


def config(budget: int = 60, **space) -> StudyConfig:
    return StudyConfig(workload=WORKLOAD, platform="vck190", space=SpaceOptions(**space).to_dict(),
                       budget=budget, population_size=20, chunk_size=10, seed=1)


def run(tmp_path: Path, name: str, cfg: StudyConfig) -> tuple[optuna.Study, str]:
    url = str(tmp_path / f"{name}.log")
    study = create_ssropt_study(open_storage(url), name, cfg)
    run_study(study, cfg, progress=False)
    return optuna.load_study(study_name=name, storage=open_storage(url)), url


def journal_trial_bytes(url: str) -> float:
    """Mean bytes of a CREATE_TRIAL line (op code 4) of a journal file."""
    sizes = [len(line) for line in Path(url).read_bytes().splitlines() if b'"op_code":4,' in line]
    return sum(sizes) / len(sizes)


def test_a_configured_trial_holds_the_searched_genes_and_fits_in_3_kb(tmp_path):
    study, url = run(tmp_path, "conf", config(configurator="ssr", batch_sizes=(1, 4)))
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 60
    for t in trials:
        assert set(t.params) == {"batch", *(f"acc_of_{n}" for n in NODES)}
        assert USER <= set(t.user_attrs)
        assert not {"strategy", "generation", "feasible", "steps"} & set(t.user_attrs)
        accelerators = t.user_attrs["accelerators"].split("; ")
        assert len(accelerators) == t.user_attrs["n_accelerators"]
        assert accelerators[0].startswith("a=") and " w2=" in accelerators[0]
        assert ("violations" in t.user_attrs) == (not trial_feasible(t))
        assert len(t.system_attrs["constraints"]) == len(study.user_attrs[CONSTRAINT_NAMES_KEY])
        assert not any(k.startswith("constraints:") for k in t.system_attrs)
        assert t.datetime_start < t.datetime_complete
    assert study.user_attrs[ASSIGNMENT_PARAMS_KEY] == {n: f"acc_of_{n}" for n in NODES}
    assert len({t.datetime_start for t in trials}) >= 3  # one window per evaluated chunk
    assert journal_trial_bytes(url) <= 3000


def test_an_unconfigured_trial_has_each_used_accelerators_genes_as_params(tmp_path):
    study, url = run(tmp_path, "genes", config(batch_sizes=(1, 2)))
    for t in study.get_trials(deepcopy=False):
        n_acc = t.user_attrs["n_accelerators"]
        accelerator_params = {k for k in t.params if k[3:4].isdigit()}
        assert accelerator_params == {
            f"acc{a}_{p}" for a in range(n_acc) for p in ("a", "b", "c", "dup", "h1", "w1", "w2")
        }
        assert "accelerators" not in t.user_attrs
    row = front_rows(study)[0]
    assert len(row["accelerators"]) == row["n_accelerators"]
    assert set(row["accelerators"][0]) == {"a", "b", "c", "dup", "h1", "w1", "w2"}


def test_a_fixed_assignment_is_no_param_but_every_row_has_it(tmp_path):
    study, _ = run(tmp_path, "seq", config(family="sequential", configurator="ssr"))
    assert {k for t in study.trials for k in t.params} == {"batch"}
    assert study.user_attrs[ASSIGNMENT_PARAMS_KEY] == {n: 0 for n in NODES}
    rows = front_rows(study)
    assert rows and all(r["assignment"] == {n: 0 for n in NODES} for r in rows)
    assert rows[0]["groups"] == "{" + ",".join(NODES) + "}"


def test_a_node_group_is_one_param(tmp_path):
    cfg = config(configurator="ssr", groups=(("q", "k", "v"),))
    study, _ = run(tmp_path, "qkv", cfg)
    assert "acc_of_q+k+v" in study.trials[0].params
    assert not {"acc_of_q", "acc_of_k", "acc_of_v"} & set(study.trials[0].params)
    for row in all_rows(study):
        assert row["assignment"]["q"] == row["assignment"]["k"] == row["assignment"]["v"]


def legacy(record: TrialRecord, names: list[str], space) -> TrialRecord:
    """A record as ssropt wrote it before: per-name constraint keys, an acc_of_ param per
    node and every accelerator parameter as a param, strategy and feasibility attributes."""
    from ssropt.engine.records import param_distributions

    params = {"batch": record.params["batch"]}
    designs = space.evaluate([record.system_attrs[GENOME_KEY]]).designs
    for j, node in enumerate(space.model.workload.names):
        params[f"acc_of_{node}"] = int(designs.assignment[0, j])
    for a in range(int(designs.assignment[0].max()) + 1):
        for p, name in enumerate(space.param_names):
            params[f"acc{a}_{name}"] = int(designs.params[0, a, p])
    dists = dict(param_distributions(space))
    for name in params:
        dists.setdefault(name, optuna.distributions.IntDistribution(0, 256))
    user = {k: v for k, v in record.user_attrs.items() if k not in ("accelerators", "violations")}
    user |= {"feasible": all(v <= 0 for v in record.constraints.values()), "strategy": "nsga2",
             "generation": record.system_attrs["ssropt:generation"], "steps": 10}
    system = dict(record.system_attrs) | {f"constraints:{n}": v for n, v in record.constraints.items()}
    return TrialRecord(params, {k: dists[k] for k in params}, record.values, user_attrs=user,
                       system_attrs=system)


def test_a_study_in_the_earlier_layout_reads_and_resumes(tmp_path, capsys):
    from ssropt.cli import main
    from ssropt.engine.checkpoint import encode_state

    cfg = config(budget=40, configurator="ssr", batch_sizes=(1, 2))
    url = str(tmp_path / "old.log")
    storage = open_storage(url)
    study = create_ssropt_study(storage, "old", cfg)
    space = cfg.build_space()
    names = constraint_names(space)
    strategy = make_strategy("nsga2", space, cfg.seed, cfg.population_size)
    result = space.evaluate(strategy.ask())
    strategy.tell(result.genomes, result.F, result.G)
    records = [legacy(r, names, space) for r in trial_records(space, result, 0, 0)]
    write_trials(storage, study._study_id, records, encode_state(1, len(records), strategy.state_dict()))

    capsys.readouterr()
    assert main(["front", "--storage", url, "--study-name", "old", "--all", "--json", "-"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(records) > 10
    for row, record in zip(rows, records):
        assert row["feasible"] == record.user_attrs["feasible"]
        assert row["violations"] == {
            k[len("constraints:"):]: v for k, v in record.system_attrs.items()
            if k.startswith("constraints:") and v > 0
        }
        assert row["assignment"] == {n: record.params[f"acc_of_{n}"] for n in NODES}
        assert row["images_per_s_per_w"] == pytest.approx(
            record.user_attrs["images_per_s"] / record.user_attrs["power_w"])
    run_study(study, cfg, progress=False)  # the worker reads G back from the old keys
    loaded = optuna.load_study(study_name="old", storage=open_storage(url))
    assert len(loaded.trials) == 40
    assert loaded.user_attrs[CONSTRAINT_NAMES_KEY] == names
    assert len(all_rows(loaded)) == 40
