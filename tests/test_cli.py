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
    for knob in ("--latent-dim", "--kappa", "--steps", "--batch-size", "--seed", "--device", "--output"):
        assert knob in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--latent-dim", "-3"], "latent_dim"),
        (["--device", "tpu"], "device"),
        (["--kappa", "0"], "kappa"),
        (["--kappa", "-1.5"], "kappa"),
        (["--steps", "many"], "not an integer"),
        (["--output", "/no/such/folder/r.jsonl"], "does not exist"),
        (["--generator", "lorenz"], "unknown generator"),
        (["--generator", "video", "--latent-dim", "5"], "even"),
        (["--uncertainty", "2"], "uncertainty"),
        (["--encoder", "tree"], "unknown encoder"),
        (["--encoder", "flow"], "sphere"),
        (["--encoder", "conv"], "video frames only"),
        (["--generator", "video", "--latent-dim", "4", "--encoder", "flow"], "not video frames"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(["run", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_run_prints_a_report_and_appends_a_json_line(tmp_path):
    out = tmp_path / "r.jsonl"
    argv = ["run", "--steps", "20", "--batch-size", "64", "--eval-samples", "500", "--device", "cpu", "--output", str(out)]
    proc = subprocess.run([sys.executable, "-m", "identifiability", *argv], capture_output=True, text=True, check=True)
    for expected in ("affine R^2", "MCC", "chance", "raw x", "rotation baseline", str(out)):
        assert expected in proc.stdout
    record = json.loads(out.read_text())
    assert record["config"]["steps"] == 20 and "affine_r2" in record["metrics"]


@pytest.mark.parametrize("name,estimator", [("adassl-v", "AdaSSL"), ("adassl-oracle", "OracleEdit"), ("h-infonce", "HeteroscedasticInfoNCE"),
                                            ("simvae", "SimVAE"), ("er", "EntropyReconstruction")])
def test_issue_7_methods_are_selectable_by_name(tmp_path, capsys, name, estimator):
    out = tmp_path / "r.jsonl"
    main(["run", "--generator", "jump", "--latent-dim", "4", "--objective", name, "--steps", "3", "--batch-size", "32",
          "--eval-samples", "200", "--device", "cpu", "--quiet", "--output", str(out)])
    record = json.loads(out.read_text())
    assert record["config"]["objective"] == name and estimator in record["estimator"]
