"""The DuckDB warehouse file is held only for the length of a call: other processes wait their
turn at its lock, threads and nested calls of one process share it, and a fork starts afresh."""

import multiprocessing
import subprocess
import sys
import textwrap
import threading
import time

import duckdb
import pandas as pd
import pytest

from resources.warehouse import Warehouse


def _hold(path, seconds: float) -> subprocess.Popen:
    """Another process holding the file's write lock for `seconds`, once it prints 'held'."""
    code = textwrap.dedent(
        f"""
        import time, duckdb
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        time.sleep({seconds})
        con.close()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _write_elsewhere(path) -> int:
    """Rows of t after another process, without waiting for any lock, inserts one row."""
    code = (
        f"import duckdb; c = duckdb.connect({str(path)!r}); c.execute('INSERT INTO t VALUES (99)'); "
        "print(c.execute('SELECT count(*) FROM t').fetchone()[0])"
    )
    return int(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


def test_between_calls_the_file_is_free_for_another_process(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_table("t", pd.DataFrame({"a": [1, 2]}))
    assert _write_elsewhere(tmp_path / "w.duckdb") == 3
    assert wh.read("t")["a"].tolist() == [1, 2, 99]  # and this process sees that write
    assert _write_elsewhere(tmp_path / "w.duckdb") == 4


def test_a_call_waits_for_another_process_s_lock_then_runs(tmp_path):
    path = tmp_path / "w.duckdb"
    wh = Warehouse(path=str(path))
    wh.replace_table("t", pd.DataFrame({"a": [1]}))
    holder = _hold(path, 1.5)
    started = time.monotonic()
    wh.replace_partition("t", "a", "2", pd.DataFrame({"b": [5]}))
    waited = time.monotonic() - started
    assert holder.wait(timeout=30) == 0
    assert waited >= 1.0
    assert sorted(wh.read("t")["a"].astype(str)) == ["1", "2"]


def test_a_call_gives_up_after_the_lock_timeout_and_says_so(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path=str(path)).replace_table("t", pd.DataFrame({"a": [1]}))
    holder = _hold(path, 20)
    try:
        wh = Warehouse(path=str(path), lock_timeout_s=0.3)
        with pytest.raises(duckdb.IOException, match="lock"):
            wh.read("t")
        # The failed call left nothing attached: once the lock is free, calls run.
        holder.kill()
        holder.wait()
        assert wh.read("t")["a"].tolist() == [1]
    finally:
        holder.kill()


def test_calls_inside_calls_share_the_file_and_a_write_inside_a_read_is_refused(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_table("t", pd.DataFrame({"a": [1]}))
    with wh.connect() as con:
        con.execute("INSERT INTO t VALUES (2)")
        assert wh.read("t")["a"].tolist() == [1, 2]  # a read inside a write sees it
        wh.replace_table("u", pd.DataFrame({"b": [3]}))
    assert wh.has_table("u")
    with wh.connect(read_only=True):
        assert wh.read("u")["b"].tolist() == [3]
        with pytest.raises(RuntimeError, match="read-only by a call in progress"):
            wh.replace_table("v", pd.DataFrame({"c": [1]}))
    wh.replace_table("v", pd.DataFrame({"c": [1]}))  # and nothing is left half-open
    assert wh.read("v")["c"].tolist() == [1]


def test_threads_of_one_process_read_and_write_at_once(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_table("seed", pd.DataFrame({"a": range(1000)}))
    errors = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                wh.replace_partition("parts", "worker", str(i), pd.DataFrame({"j": [j] * (i + 1)}))
                assert wh.read("seed")["a"].sum() == sum(range(1000))
        except Exception as e:  # reported below, with the thread that failed
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = wh.counts("parts", ["worker", "j"]).sort_values("worker")
    assert counts["worker"].tolist() == [str(i) for i in range(6)]
    assert counts["j"].tolist() == [9] * 6  # each worker's last run replaced its earlier ones
    assert counts["n"].tolist() == [i + 1 for i in range(6)]
    assert _write_elsewhere_ok(tmp_path / "w.duckdb")


def _write_elsewhere_ok(path) -> bool:
    code = f"import duckdb; duckdb.connect({str(path)!r}).execute('CREATE TABLE z AS SELECT 1')"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def _child(path: str, queue) -> None:
    wh = Warehouse(path=path)
    wh.replace_partition("t", "who", "child", pd.DataFrame({"a": [7]}))
    queue.put(sorted(wh.read("t")["who"]))


def test_a_forked_process_uses_the_file_without_the_parent_s_duckdb(tmp_path):
    path = str(tmp_path / "w.duckdb")
    wh = Warehouse(path=path)
    wh.replace_partition("t", "who", "parent", pd.DataFrame({"a": [1]}))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(path, queue))
    proc.start()
    seen = queue.get(timeout=60)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert seen == ["child", "parent"]
    assert sorted(wh.read("t")["who"]) == ["child", "parent"]


def test_spill_files_go_beside_the_file_not_into_the_working_folder(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    with wh.connect(read_only=True) as con:
        (where,) = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert where == str((tmp_path / "w.duckdb").resolve()) + ".tmp"


def test_a_process_keeps_a_few_idle_duckdbs_not_one_per_file_it_ever_used(tmp_path):
    from resources import warehouse

    for i in range(warehouse._KEPT + 5):
        Warehouse(path=str(tmp_path / f"w{i}.duckdb")).replace_table("t", pd.DataFrame({"a": [i]}))
    mine = [k for k in warehouse._attachments if k.startswith(str(tmp_path.resolve()))]
    assert len(mine) <= warehouse._KEPT
    # The most recent files are the ones kept, and each still reads back.
    assert mine[-1].endswith(f"w{warehouse._KEPT + 4}.duckdb")
    for i in range(warehouse._KEPT + 5):
        assert Warehouse(path=str(tmp_path / f"w{i}.duckdb")).read("t")["a"].tolist() == [i]


def test_waits_inside_one_process_end_at_the_lock_timeout_not_one_after_another(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path=str(path)).replace_table("t", pd.DataFrame({"a": [1]}))
    holder = _hold(path, 20)
    wh = Warehouse(path=str(path), lock_timeout_s=1.0)
    ended: list[float] = []
    errors: list[str] = []

    def call() -> None:
        started = time.monotonic()
        try:
            wh.read("t")
        except duckdb.IOException as e:
            errors.append(str(e))
        ended.append(time.monotonic() - started)

    try:
        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        holder.kill()
        holder.wait()
    assert len(errors) == 4 and all("lock" in e for e in errors)
    assert max(ended) < 3.0, ended  # one after another they would take 4 s and more


def test_a_waiting_writer_goes_before_read_only_calls_that_come_after_it(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"), lock_timeout_s=30)
    wh.replace_table("t", pd.DataFrame({"a": [1]}))
    stop = threading.Event()
    readers_done = threading.Event()

    def reader(offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            with wh.connect(read_only=True):
                time.sleep(0.2)
        readers_done.set()

    threads = [threading.Thread(target=reader, args=(i * 0.1,)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    wh.replace_table("u", pd.DataFrame({"b": [2]}))  # readers overlap: without priority it starves
    written_while_reading = not readers_done.is_set()
    stop.set()
    for t in threads:
        t.join()
    assert written_while_reading
    assert wh.read("u")["b"].tolist() == [2]


def test_a_table_outside_the_file_is_not_the_file_s(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    with wh.connect() as con:
        con.execute("USE memory")
        con.execute("CREATE TABLE stray (a INTEGER)")
    assert not wh.has_table("stray")


def _fork_child_calls(path: str, queue) -> None:
    queue.put(Warehouse(path=path).has_table("t"))


def test_forks_while_other_threads_are_calling_do_not_hang_the_child(tmp_path):
    files = [Warehouse(path=str(tmp_path / f"f{i}.duckdb")) for i in range(6)]
    for wh in files:
        wh.replace_table("t", pd.DataFrame({"a": [1]}))
    stop = threading.Event()

    def churn() -> None:  # more files than a process keeps: DuckDBs are made and closed
        i = 0
        while not stop.is_set():
            files[i % 6].has_table("t")
            i += 1

    thread = threading.Thread(target=churn)
    thread.start()
    ctx = multiprocessing.get_context("fork")
    hung = []
    try:
        for k in range(8):
            queue = ctx.Queue()
            proc = ctx.Process(target=_fork_child_calls, args=(str(tmp_path / "child.duckdb"), queue))
            proc.start()
            proc.join(timeout=30)
            if proc.is_alive():
                hung.append(k)
                proc.kill()
                proc.join()
            else:
                assert proc.exitcode == 0
    finally:
        stop.set()
        thread.join()
    assert hung == []


def test_a_child_forked_after_calls_exits_cleanly(tmp_path):
    code = textwrap.dedent(
        f"""
        import os, sys
        import pandas as pd
        from resources.warehouse import Warehouse
        wh = Warehouse(path={str(tmp_path / "w.duckdb")!r})
        wh.replace_table("t", pd.DataFrame({{"a": [1]}}))
        pid = os.fork()
        if pid == 0:
            wh.has_table("t")
            sys.exit(0)  # a normal exit: the interpreter tears down what the child holds
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0", out.stderr
