import json
import subprocess
import sys

import pytest

from identifiability.cli import main


def test_help_documents_the_knobs(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for knob in ("--latent-dim", "--kappa", "--steps", "--batch-size", "--seed", "--device", "--results"):
        assert knob in out


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"], ["report", "--help"]])
def test_every_help_page_prints(argv, capsys):
    # argparse %-formats help strings: a bare "95%" in one turned the top-level --help into a traceback
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and "usage: identifiability" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--latent-dim", "-3"], "--latent-dim"),
        (["--device", "tpu"], "device"),
        (["--kappa", "0"], "kappa"),
        (["--kappa", "-1.5"], "kappa"),
        (["--steps", "many"], "not an integer"),
        (["--results", "/no/such/folder/r.jsonl"], "does not exist"),
        (["--process", "lorenz"], "--process: must be one of"),
        (["--process", "video", "--latent-dim", "5"], "even"),
        (["--uncertainty", "2"], "uncertainty"),
        (["--encoder", "tree"], "--encoder: must be one of"),
        (["--encoder", "flow"], "sphere"),
        (["--encoder", "conv"], "conv is for video frames"),
        # issue 18: a dial the chosen parts do not have is refused, naming the parts that have it
        (["--process", "box", "--kappa", "5"], "it is a setting of: sphere (process)"),
        (["--objective", "byol", "--temperature", "0.2"], "not a setting of the chosen parts"),
        (["--process", "box", "--encoder", "linear", "--hidden", "8,8"], "mlp (encoder)"),
        (["--process", "video", "--mixing-layers", "2"], "--mixing-layers"),
        (["--process", "sphere", "--uncertainty", "0.5"], "jump (process)"),
        (["--process", "box", "--objective", "adassl-v", "--temperature", "0.2"], "which has no temperature"),
        (["--process", "sphere", "--encoder", "flow"], "cannot map onto the sphere"),
        (["--whiten", "yes"], "--whiten: must be on or off"),
        (["--dtype", "float16"], "--dtype: must be one of float32, float64"),
        (["--encoder", "linear", "--whiten", "off"], "mlp (encoder)"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, monkeypatch, tmp_path, argv, message):
    monkeypatch.chdir(tmp_path)  # a value refused when its part is built comes after the default results folder is made
    with pytest.raises(SystemExit) as exit_:
        main(["run", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_run_prints_a_report_appends_a_json_line_and_loads_neither_sklearn_nor_lightgbm(tmp_path):
    out = tmp_path / "r.jsonl"
    argv = ["run", "--steps", "20", "--batch-size", "64", "--eval-samples", "500", "--device", "cpu", "--results", str(out)]
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "identifiability", *argv], capture_output=True, text=True, check=True)
    for expected in ("affine R^2", "MCC", "chance", "raw x", "rotation baseline", str(out)):
        assert expected in proc.stdout
    record = json.loads(out.read_text())
    assert record["spec"]["training"]["steps"] == 20 and "affine_r2" in record["metrics"]["code"]
    # only the kernel R^2 and DCI need them, and they import them where they do: 0.5 s off every process's start
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" in imported and not imported & {"sklearn", "lightgbm"}


@pytest.mark.parametrize("name,estimator", [("adassl-v", "AdaSSL"), ("adassl-oracle", "OracleEdit"), ("h-infonce", "HeteroscedasticInfoNCE"),
                                            ("simvae", "SimVAE"), ("er", "EntropyReconstruction")])
def test_issue_7_methods_are_selectable_by_name(tmp_path, capsys, name, estimator):
    out = tmp_path / "r.jsonl"
    main(["run", "--process", "jump", "--latent-dim", "4", "--objective", name, "--steps", "3", "--batch-size", "32",
          "--eval-samples", "200", "--device", "cpu", "--quiet", "--results", str(out)])
    record = json.loads(out.read_text())
    assert record["spec"]["objective"]["name"] == name and estimator in record["estimator"]


# --- issue 11: the command line fails early and cleanly ----------------------------------------

NUMERIC = {  # flag -> values that must be refused: NaN, infinities, negative, huge
    "--latent-dim": ["nan", "inf", "-1", "100000"],
    "--kappa": ["nan", "inf", "-inf", "-1", "1e300"],
    "--uncertainty": ["nan", "inf", "-0.5", "1e300"],
    "--seq-len": ["nan", "-1", "1000000000000"],
    "--mixing-layers": ["nan", "-1", "1000000000000"],
    "--temperature": ["nan", "inf", "-1", "1e300"],
    "--steps": ["nan", "inf", "-1", "0", str(10**30)],
    "--batch-size": ["nan", "-1", "1000000000"],
    "--lr": ["nan", "inf", "-1", "1e300"],
    "--eval-samples": ["nan", "-1", "1000000000"],
    "--seed": ["nan", "-1", str(2**64)],
}


@pytest.mark.parametrize("flag,value", [(flag, value) for flag, values in NUMERIC.items() for value in values])
def test_every_numeric_flag_refuses_nan_infinite_negative_and_huge_values(tmp_path, capsys, flag, value):
    argv = ["run", "--process", "jump", flag, value, "--results", str(tmp_path / "r.jsonl"), "--device", "cpu"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert flag in err, err
    assert not (tmp_path / "r.jsonl").exists()  # nothing created for a refused run


def test_memory_refusals_give_the_estimate(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["run", "--batch-size", "1000000000", "--device", "cpu"])
    assert "needs about" in capsys.readouterr().err


def bad_outputs(tmp_path):
    read_only = tmp_path / "read-only.jsonl"
    read_only.write_text("")
    read_only.chmod(0o444)
    return {
        "a folder": (tmp_path, "is a folder"),
        "a missing folder": (tmp_path / "missing" / "r.jsonl", "does not exist"),
        "a read-only file": (read_only, "read-only"),
        "an unwritable place": ("/proc/r.jsonl", "cannot write"),
    }


@pytest.mark.parametrize("case", ["a folder", "a missing folder", "a read-only file", "an unwritable place"])
def test_bad_results_paths_are_refused_before_training(tmp_path, capsys, case):
    path, message = bad_outputs(tmp_path)[case]
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--steps", "100000", "--device", "cpu", "--results", str(path)])  # would train for minutes
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "--results" in err and message in err, err


def test_ctrl_c_stops_with_one_line_and_exit_130(tmp_path):
    import signal
    import time

    out = tmp_path / "r.jsonl"
    argv = ["run", "--steps", "1000000000000", "--device", "cpu", "--quiet", "--results", str(out), "--checkpoint-every", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "identifiability", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waited = 0.0
    while not list((tmp_path / "checkpoints").glob("*.pt")) and proc.poll() is None and waited < 120:
        time.sleep(0.1)  # until the first step's checkpoint says the run is training (no fixed wait)
        waited += 0.1
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert not out.exists()  # a file this run created and never wrote is removed
