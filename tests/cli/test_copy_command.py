"""``minqing copy SRC_URL DST_URL``: its output, the verification table and the exit codes."""

from __future__ import annotations

from conftest import X0, Y0, make_tickets
from test_migrate import with_password

from minqing.cli.main import main
from minqing.geo.link import apply_links, link_tickets
from minqing.store import open_store


def _source(tmp_path, tiny_units, tiny_places) -> str:
    url = f"sqlite:///{tmp_path / 'src.sqlite'}"
    with open_store(url) as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        store.write_places(tiny_places)
        t = make_tickets([(X0 + 0.001 * i, Y0 + 0.005) for i in range(20)],
                         [f"2025-03-{1 + i:02d} 10:00" for i in range(20)])
        store.write_tickets(*apply_links(t, link_tickets(t, store.read_units(), tiny_places)))
        store.write_audit({"at": "2025-05-01 09:00", "actor": "ann", "action": "export", "rows": 3})
    return url


def test_copy_prints_every_table_ok_and_exits_0(tmp_path, tiny_units, tiny_places, capsys):
    src, dst = _source(tmp_path, tiny_units, tiny_places), f"sqlite:///{tmp_path / 'dst.sqlite'}"
    assert main(["copy", src, dst, "--chunk", "7"]) == 0
    out, err = capsys.readouterr()
    assert f"copy: {src} -> {dst}" in out and "copied 20 tickets" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split() and line.split()[-1] in
             ("OK", "MISMATCH")}
    assert lines["tickets"][1:] == ["20", "20", "OK"] and lines["audit_log"][1:] == ["1", "1", "OK"]
    assert all(parts[-1] == "OK" for parts in lines.values()) and "every table matches" in out
    assert "tickets 20 / 20" in err  # progress on standard error
    with open_store(dst) as store:
        assert store.ticket_count() == 20


def test_copy_into_a_non_empty_store_is_refused_with_exit_2(tmp_path, tiny_units, tiny_places, capsys):
    src = _source(tmp_path, tiny_units, tiny_places)
    assert main(["copy", src, src]) == 2
    captured = capsys.readouterr()
    assert "is not empty (tickets, units, places, audit_log)" in captured.err and "copy into a new, empty store" in captured.err


def test_a_mismatch_exits_1(tmp_path, tiny_units, tiny_places, capsys, monkeypatch):
    from minqing.store.sqlite.store import SQLiteStore

    src, dst = _source(tmp_path, tiny_units, tiny_places), f"sqlite:///{tmp_path / 'dst.sqlite'}"
    append = SQLiteStore.append_rows
    monkeypatch.setattr(SQLiteStore, "append_rows",  # a copy that loses the audit log's rows
                        lambda self, table, rows: append(self, table, rows.iloc[:0] if table == "audit_log" else rows))
    assert main(["copy", src, dst]) == 1
    out = capsys.readouterr().out
    assert any(line.split() == ["audit_log", "1", "0", "MISMATCH"] for line in out.splitlines())
    assert "MISMATCH in audit_log" in out


def test_copy_to_postgis_shows_no_password(tmp_path, tiny_units, tiny_places, capsys, pg_fresh_url):
    src = _source(tmp_path, tiny_units, tiny_places)
    dst = with_password(pg_fresh_url, "s3cret")
    assert main(["copy", src, dst]) == 0
    out, err = capsys.readouterr()
    assert "s3cret" not in out + err and with_password(pg_fresh_url, "***") in out
    assert main(["copy", src, dst]) == 2  # now it holds the copy
    err = capsys.readouterr().err
    assert "s3cret" not in err and "not empty" in err


def test_no_verify_prints_the_counts_only(tmp_path, tiny_units, tiny_places, capsys):
    src, dst = _source(tmp_path, tiny_units, tiny_places), f"sqlite:///{tmp_path / 'dst.sqlite'}"
    assert main(["copy", src, dst, "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert "(not verified)" in out and "MISMATCH" not in out and " OK" not in out
    assert any(line.split() == ["tickets", "20"] for line in out.splitlines())
