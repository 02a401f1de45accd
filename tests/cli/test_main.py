from minqing.cli.main import main


def test_info_and_demo_if_missing(demo_store_url, capsys):
    assert main(["--db", demo_store_url, "info"]) == 0
    out = capsys.readouterr().out
    assert "grid:" in out and "tickets:" in out and "interventions:" in out
    assert main(["--db", demo_store_url, "demo", "--if-missing"]) == 0
    assert "already filled" in capsys.readouterr().out


def test_bad_store_url_is_a_clear_error(capsys):
    assert main(["--db", "mysql://x", "info"]) == 2
    assert "no store for" in capsys.readouterr().err
