from ghostmech.cli import main


def test_unknown_command_is_one_line_and_nonzero(capsys):
    rc = main(["no-such-command"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error" in err


def test_version_runs(capsys):
    assert main(["version"]) == 0
    assert "ghostmech" in capsys.readouterr().out
