"""``talks label --web``: the session layer without HTTP, the HTTP checks, a
SIGKILLed server, and the page in headless Debian chromium through Playwright
(never ``playwright install``), as in test_report_browser.py."""
from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import make_labelled_project

from pipeline.corpus.store import build_corpus
from pipeline.errors import LabelError
from pipeline.labels.gold import collect_labels, read_store
from pipeline.labels.journal import annotator_lock
from pipeline.labels.store import format_suggested
from pipeline.labelling.terminal import run_labeller, suggested_queue
from pipeline.project import Project
from pipeline.records import LABELS
from pipeline.labelling import web
from pipeline.labelling.web import MAX_BODY, BadRequest, WebSession, run_web_labeller

REPO = Path(__file__).parent.parent
ZERO = {c: 0 for c in (*LABELS, "junk")}


# --------------------------------------------------------------------------
# Fixtures: a trained project (built once, copied per test), a server, a browser
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> dict:
    from pipeline.model.selection import train

    p = make_labelled_project(tmp_path_factory.mktemp("base"))
    train(p["project"], grid=[{"features": "word", "C": 4.0}])
    return p


@pytest.fixture
def project(base_project, tmp_path) -> dict:
    """A fresh copy of the trained labelled project: corpus, labels (tester.csv), models."""
    root = Path(shutil.copytree(base_project["labels"].parent, tmp_path / "p"))
    return {k: root / v.name for k, v in base_project.items() if isinstance(v, Path)} | {"project": Project.at(root)}


def _web_rows(p: dict, annotator: str = "web") -> dict[str, dict]:
    """The annotator's effective rows (store plus pending journal), by sentence id."""
    rows, _, _ = collect_labels(p["project"])
    return {r["sentence_id"]: r for r in rows if Path(r["file"]).stem == annotator}


def _vals(row: dict) -> dict:
    return {c: int(row[c]) for c in ZERO}


@contextmanager
def serving(p: dict, annotator: str = "web", **kw):
    """run_web_labeller in a thread; yields the server, stops it cleanly on exit."""
    box: dict = {}
    up = threading.Event()
    kw.setdefault("suggestions", True)

    def run():
        try:
            box["result"] = run_web_labeller(annotator, p["project"],
                                             ready=lambda server, notice: (box.update(server=server), up.set()), **kw)
        except Exception as e:  # surfaced in the test thread below
            box["error"] = e
            up.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert up.wait(30) and "error" not in box, box.get("error")
    try:
        yield box["server"]
    finally:
        box["server"].shutdown()
        t.join(10)


def call(port: int, token: str, path: str, body: dict | None = None, method: str = "POST", body_bytes: bytes | None = None,
         **headers) -> tuple[int, dict | str, dict]:
    """One request with the page's headers unless overridden (None drops a header); ``body_bytes`` is sent as it is."""
    h = {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}", "X-Talks-Token": token, "Content-Type": "application/json"}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body_bytes if body is None else json.dumps(body), headers={k: v for k, v in h.items() if v is not None})
    r = conn.getresponse()
    raw = r.read().decode("utf-8")
    conn.close()
    return r.status, (json.loads(raw) if r.getheader("Content-Type", "").startswith("application/json") else raw), dict(r.getheaders())


@pytest.fixture
def expect():
    return pytest.importorskip("playwright.sync_api").expect


def open_page(context, url: str, errors: list[str]):
    """A page that records console errors and uncaught exceptions into ``errors``."""
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def shown_sid(page) -> str:
    return re.search(r"\((s[0-9a-f]+),", page.locator("#where").inner_text()).group(1)


# --------------------------------------------------------------------------
# The session layer (no HTTP)
# --------------------------------------------------------------------------
def test_session_leases_undo_and_replace(project):
    p = project
    items, _ = suggested_queue("web", p["project"], suggestions=True)
    now = [0.0]
    s = WebSession("web", p["labels"], items, lease_seconds=60, clock=lambda: now[0])
    ids = [it.sentence_id for it in items]
    a, b = s.state("tab-aaaaaaaa")["item"], s.state("tab-bbbbbbbb")["item"]
    assert (a["sentence_id"], b["sentence_id"]) == (ids[0], ids[1])  # each tab its own sentence
    assert s.state("tab-aaaaaaaa")["item"]["sentence_id"] == ids[0]  # and it keeps it
    assert a["values"] == {**ZERO, **{k: v for k, v in items[0].suggested.items()}} and a["suggested"]
    assert set(a["proba"]) == set(LABELS)
    # a tab silent past its lease loses its sentence to the next tab that asks
    now[0] = 61
    assert s.state("tab-cccccccc")["item"]["sentence_id"] == ids[0]
    # ... but its late save still counts, and saving again replaces: one row per sentence
    s.save("tab-aaaaaaaa", ids[0], {**ZERO, "violence": 1})
    s.save("tab-cccccccc", ids[0], {**ZERO, "blame": 1})
    s.save("tab-bbbbbbbb", ids[1], {**ZERO, "junk": 1})
    rows = _web_rows(p)
    assert set(rows) == {ids[0], ids[1]} and _vals(rows[ids[0]])["blame"] == 1
    assert rows[ids[0]]["suggested"] == format_suggested(items[0].suggested)
    # undo is per tab: a's decision on ids[0] was replaced in another tab since, b's is its own
    assert "another tab" in s.undo("tab-aaaaaaaa")["message"]
    st = s.undo("tab-bbbbbbbb")
    assert st["item"]["sentence_id"] == ids[1] and st["item"]["values"]["junk"] == 1 and st["saved"] == 1
    assert set(_web_rows(p)) == {ids[0]}  # memory and journal agree
    assert "nothing to undo" in s.undo("tab-dddddddd")["message"]
    with pytest.raises(BadRequest):
        s.save("tab-aaaaaaaa", ids[2], {**ZERO, "junk": 1, "blame": 1})  # junk carries no labels
    with pytest.raises(BadRequest):
        s.save("tab-aaaaaaaa", "s-not-in-queue", ZERO)
    with pytest.raises(BadRequest):
        s.save("tab-aaaaaaaa", ids[2], {"violence": "1"})


def test_concurrent_clients_over_http_lose_and_duplicate_nothing(project):
    """Eight clients save at once for a while: every acknowledged save is one row, none twice."""
    with serving(project) as srv:
        def client(n: int) -> list[str]:
            cid, done = f"client-{n:04d}", []
            st = call(srv.port, srv.token, "/api/state", {"client": cid})[1]
            for _ in range(8):
                sid = st["item"]["sentence_id"]
                status, st, _ = call(srv.port, srv.token, "/api/save", {"client": cid, "sentence_id": sid, "values": {**ZERO, "diplomacy": 1}})
                assert status == 200
                done.append(sid)
            return done

        with ThreadPoolExecutor(8) as pool:
            saved = [sid for done in pool.map(client, range(8)) for sid in done]
    assert len(saved) == len(set(saved)) == 64
    df = read_store(project["labels"] / "web.csv")  # folded on the clean stop
    assert sorted(df["sentence_id"]) == sorted(saved)


def test_one_session_per_annotator_terminal_or_web(project):
    with serving(project), pytest.raises(LabelError, match="another 'talks label' session"):
        run_labeller("web", project["project"])
    with annotator_lock(project["labels"], "web"), pytest.raises(LabelError, match="another 'talks label' session"):
        run_web_labeller("web", project["project"])


# --------------------------------------------------------------------------
# HTTP: who may talk to the server
# --------------------------------------------------------------------------
def test_requests_from_other_sites_are_refused(project):
    journal = project["labels"] / ".journal" / "web.jsonl"
    with serving(project) as srv:
        assert srv.server_address[0] == "127.0.0.1"
        port, token = srv.port, srv.token
        status, page, headers = call(port, token, "/", method="GET")
        assert status == 200 and f'content="{token}"' in page
        assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'nonce-")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page
        sid = call(port, token, "/api/state", {"client": "tab-aaaaaaaa"})[1]["item"]["sentence_id"]
        save = {"client": "tab-aaaaaaaa", "sentence_id": sid, "values": ZERO}
        assert call(port, token, "/api/save", save, Origin="http://evil.example")[0] == 403
        assert call(port, token, "/api/save", save, Origin="null")[0] == 403
        assert call(port, token, "/api/save", save, Origin=None)[0] == 403  # neither Origin nor Referer
        assert call(port, token, "/api/save", save, Origin=None, Referer="http://evil.example/x")[0] == 403
        assert call(port, token, "/api/save", save, Host=f"evil.example:{port}")[0] == 403  # DNS rebinding
        assert call(port, token, "/", method="GET", Host=f"evil.example:{port}")[0] == 403
        assert call(port, token, "/api/save", save, X_Talks_Token=None)[0] == 403
        assert call(port, token, "/api/save", save, X_Talks_Token="x" * len(token))[0] == 403
        assert call(port, token, "/api/save", save, Content_Type="text/plain")[0] == 415
        assert not journal.exists()  # nothing refused was written
        # the page's own requests: Origin, or Referer when a browser leaves Origin out; localhost works too
        assert call(port, token, "/api/save", save, Origin=None, Referer=f"http://127.0.0.1:{port}/")[0] == 200
        assert call(port, token, "/api/save", save, Host=f"localhost:{port}", Origin=f"http://localhost:{port}")[0] == 200
        assert call(port, token, "/api/save", {**save, "values": {"junk": 2}})[0] == 400
    assert len(read_store(project["labels"] / "web.csv")) == 1


def _raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are (no client library to clean them) and return the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return b"".join(iter(lambda: sock.recv(65536), b""))


def test_hostile_tokens_and_bodies_get_an_answer_not_a_traceback(project, capfd):
    """A token with non-ASCII characters and JSON nested 30,000 deep (under the
    body limit) are refused with a status, and nothing reaches the terminal."""
    with serving(project) as srv:
        port, token = srv.port, srv.token
        head = f"POST /api/state HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        body = json.dumps({"client": "tab-aaaaaaaa"}).encode()
        for bad in ("t\u00f6ken".encode("latin-1"), "\u202e\u00e9".encode("utf-8"), token.encode()[:-1] + b"\xff"):
            answer = _raw(port, head.encode() + b"X-Talks-Token: " + bad + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            assert answer.startswith(b"HTTP/1.0 403 ") and b"wrong token" in answer, answer[:200]
        deep = b"[" * 30_000 + b"]" * 30_000
        assert len(deep) < MAX_BODY
        status, answer, _ = call(port, token, "/api/state", None, body_bytes=deep)
        assert status == 400 and answer == {"error": "body is not valid JSON"}
        assert call(port, token, "/api/state", {"client": "tab-aaaaaaaa"})[0] == 200  # still serving
        assert srv.errors == []
    err = capfd.readouterr().err
    assert "Traceback" not in err and err == "", err


def _status_or_none(srv) -> int | None:
    """The state request's status; None when a busy server closed the connection before reading it."""
    try:
        return call(srv.port, srv.token, "/api/state", {"client": "tab-aaaaaaaa"})[0]
    except ConnectionError:
        return None


def test_stalled_connections_hold_no_more_than_a_few_threads(project, monkeypatch):
    """300 clients that connect and send nothing: the server keeps at most
    MAX_CONNECTIONS threads, answers the rest 503 at once, closes the silent
    ones after the read timeout and then serves the page again."""
    monkeypatch.setattr(web, "READ_TIMEOUT", 2.0)
    with serving(project) as srv:
        before, most = threading.active_count(), 0
        stalled = []
        try:
            for _ in range(300):
                stalled.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
                most = max(most, threading.active_count() - before)
            time.sleep(0.3)
            most = max(most, threading.active_count() - before)
            assert most <= web.MAX_CONNECTIONS
            deadline = time.monotonic() + 20
            while _status_or_none(srv) != 200:
                assert time.monotonic() < deadline, "the silent connections were never closed"
                time.sleep(0.2)
            answers = [s.recv(1024) for s in stalled]
        finally:
            for s in stalled:
                s.close()
        assert set(answers) <= {b"", web.BUSY_ANSWER} and answers.count(web.BUSY_ANSWER) >= 100  # closed silently, or told at once
        assert srv.errors == []


# --------------------------------------------------------------------------
# Durability: kill -9 the server process
# --------------------------------------------------------------------------
def _start(p: dict) -> tuple[subprocess.Popen, int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "label", "--web", "--annotator", "web", "--port", "0", "--root", str(p["corpus"]),
         "--labels", str(p["labels"]), "--models", str(p["models"])],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    m = re.match(r"serving http://127\.0\.0\.1:(\d+)/ — Ctrl-C to stop$", line.strip())
    assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
    port = int(m.group(1))
    page = call(port, "", "/", method="GET")[1]
    return proc, port, re.search(r'name="talks-token" content="([^"]+)"', page).group(1)


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_at_a_random_point_loses_no_acknowledged_decision(project, seed):
    """Saves sent back to back, SIGKILL at a random point (after a random
    number of answers, then a random few milliseconds): every answered save
    is in the journal, nothing else is there but possibly the one in flight,
    and a restart folds it all in and carries on after them."""
    rng = random.Random(seed)
    p = project
    queue = [it.sentence_id for it in suggested_queue("web", p["project"])[0]]
    choices = [ZERO, {**ZERO, "violence": 1}, {**ZERO, "junk": 1}, {**ZERO, "diplomacy": 1, "blame": 1}]
    sent, answered = {}, {}
    proc, port, token = _start(p)
    try:
        st = call(port, token, "/api/state", {"client": "tab-aaaaaaaa"})[1]
        kill_at = rng.randint(0, 8)
        for i in range(12):
            if i == kill_at:
                threading.Timer(rng.uniform(0, 0.01), os.kill, (proc.pid, signal.SIGKILL)).start()
            sid, values = st["item"]["sentence_id"], rng.choice(choices)
            sent[sid] = values
            try:
                status, st, _ = call(port, token, "/api/save", {"client": "tab-aaaaaaaa", "sentence_id": sid, "values": values})
            except (OSError, http.client.HTTPException):  # killed before it answered
                break
            assert status == 200
            answered[sid] = values
        proc.wait(10)
    finally:
        proc.kill()
    assert not (p["labels"] / "web.csv").exists()
    rows = {sid: _vals(r) for sid, r in _web_rows(p).items()}  # readers fold the journal in
    assert answered.items() <= rows.items()
    assert len(answered) <= len(rows) <= len(answered) + 1 and rows == {sid: sent[sid] for sid in rows}
    assert sorted(rows) == sorted(queue[:len(rows)])  # one tab: queue order
    proc, port, token = _start(p)  # the restart folds the journal into the CSV first
    try:
        st = call(port, token, "/api/state", {"client": "tab-bbbbbbbb"})[1]
        assert st["item"]["sentence_id"] == queue[len(rows)] and st["left"] == len(queue) - len(rows)
        assert (p["labels"] / "web.csv").exists() == bool(rows)  # folded in at the start (no store for no rows)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "saved 0 decision(s)" in out
    if rows:
        df = read_store(p["labels"] / "web.csv").set_index("sentence_id")
        assert {sid: {c: int(df.loc[sid, c]) for c in ZERO} for sid in df.index} == rows
    journal = p["labels"] / ".journal" / "web.jsonl"
    assert not journal.exists() or journal.read_text() == ""  # killed before any save: no journal was ever made


# --------------------------------------------------------------------------
# The page in a browser
# --------------------------------------------------------------------------
def test_keyboard_labelling_persists_across_reload(project, browser, expect):
    p = project
    items, _ = suggested_queue("web", p["project"], suggestions=True)
    first = items[0]
    errors: list[str] = []
    with serving(p) as srv:
        ctx = browser.new_context()
        page = open_page(ctx, srv.url, errors)
        n = len(items)
        expect(page.locator("#progress")).to_have_text(f"0 saved, {n} left")
        assert shown_sid(page) == first.sentence_id
        # the model's suggestion is pre-ticked, each label with its probability
        checked = page.eval_on_selector_all("#boxes input", "els => els.map(e => e.checked ? 1 : 0)")
        assert checked == [first.suggested[lab] for lab in LABELS] + [0]
        assert all(f"{first.proba[lab]:.2f}" in page.locator("#boxes").inner_text() for lab in LABELS)
        expected = {}
        for keys, change in ((["1"], {"diplomacy": 1 - first.suggested["diplomacy"]}), (["j"], "junk"), (["0", "2"], "violence")):
            sid = shown_sid(page)
            for k in keys + ["Enter"]:
                page.keyboard.press(k)
            expected[sid] = {**first.suggested, **change} if isinstance(change, dict) else {**ZERO, change: 1}
            expect(page.locator("#progress")).to_have_text(f"{len(expected)} saved, {n - len(expected)} left")
        page.reload()
        expect(page.locator("#progress")).to_have_text(f"3 saved, {n - 3} left")
        assert shown_sid(page) == items[3].sentence_id  # the same tab keeps its place
        rows = _web_rows(p)
        assert {sid: _vals(r) for sid, r in rows.items()} == expected
        assert rows[first.sentence_id]["suggested"] == format_suggested(first.suggested)
        ctx.close()
    assert len(read_store(p["labels"] / "web.csv")) == 3  # folded into the CSV on the clean stop
    assert errors == []


def test_a_restarted_page_resumes_with_what_is_left(project, browser, expect, tmp_path):
    """Stop the server after two decisions on a queue and start it again: the page counts what is left of this
    annotator's work and shows the third sentence, not sentence 1 of the whole queue; --revisit shows them all."""
    p = project
    items, _ = suggested_queue("web", p["project"], suggestions=False)
    queue = tmp_path / "q.txt"
    queue.write_text("\n".join(it.sentence_id for it in items[:6]) + "\n")
    errors: list[str] = []
    with serving(p, queue=queue, suggestions=False) as srv:
        ctx = browser.new_context()
        page = open_page(ctx, srv.url, errors)
        expect(page.locator("#progress")).to_have_text("0 saved, 6 left")
        for k in ("2", "Enter", "Enter"):
            page.keyboard.press(k)
        expect(page.locator("#progress")).to_have_text("2 saved, 4 left")
        ctx.close()
    with serving(p, queue=queue, suggestions=False) as srv:
        ctx = browser.new_context()
        page = open_page(ctx, srv.url, errors)
        expect(page.locator("#progress")).to_have_text("0 saved, 4 left")
        assert shown_sid(page) == items[2].sentence_id
        ctx.close()
    with serving(p, queue=queue, suggestions=False, revisit=True) as srv:
        ctx = browser.new_context()
        page = open_page(ctx, srv.url, errors)
        expect(page.locator("#progress")).to_have_text("0 saved, 6 left")
        assert shown_sid(page) == items[0].sentence_id
        ctx.close()
    assert {sid: _vals(r)["violence"] for sid, r in _web_rows(p).items()} == {items[0].sentence_id: 1, items[1].sentence_id: 0}
    assert errors == []


# Slows one tab's saves in the page itself (fetch is wrapped before the page's script runs), so
# the other tab runs ahead: the interleaving that made the old check fail one run in four.
SLOW_SAVES = """
const realFetch = window.fetch;
window.fetch = (url, opts) => String(url).endsWith("/api/save")
  ? new Promise(resolve => setTimeout(resolve, %d)).then(() => realFetch(url, opts))
  : realFetch(url, opts);
"""


@pytest.mark.parametrize("slow_ms", [0, 150], ids=["as-fast-as-they-go", "one-tab-slow"])
def test_two_tabs_label_different_sentences(project, browser, expect, slow_ms):
    """Two tabs save three sentences each without waiting for each other: six rows, none twice.

    Which six depends on how the saves interleave: each save leases the saving tab the next free
    sentence, so a tab that runs ahead takes sentences the other would have had, and at the end
    each tab holds one unsaved sentence that need not be the 7th or 8th of the queue.  (The old
    check, "the first six of the queue", failed whenever one tab ran ahead.)  What always holds:
    the six saved and the two held are the first eight, with nothing both saved and held."""
    p = project
    queue = [it.sentence_id for it in suggested_queue("web", p["project"])[0]]
    errors: list[str] = []
    with serving(p) as srv:
        ctx = browser.new_context()
        tabs = [open_page(ctx, srv.url, errors) for _ in range(2)]
        if slow_ms:
            tabs[0].add_init_script(SLOW_SAVES % slow_ms)
            tabs[0].reload()
        for t in tabs:
            expect(t.locator("#where")).to_contain_text("sentence")
        assert shown_sid(tabs[0]) != shown_sid(tabs[1])
        for _ in range(3):  # both tabs press Enter without waiting for each other
            for t in tabs:
                t.keyboard.press("Enter")
        journal = p["labels"] / ".journal" / "web.jsonl"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 6):
            time.sleep(0.05)
        held = []
        for t in tabs:  # a reload shows the sentence the tab holds now (its id survives in sessionStorage)
            t.reload()
            expect(t.locator("#progress")).to_contain_text("6 saved")
            held.append(shown_sid(t))
        ctx.close()
    df = read_store(p["labels"] / "web.csv")  # the journal, folded on the clean stop
    saved = set(df["sentence_id"])
    assert len(df) == len(saved) == 6  # six saves, six rows, none twice
    assert len(set(held)) == 2 and not saved & set(held)  # each tab holds its own unsaved sentence
    assert saved | set(held) == set(queue[:8])  # leased in queue order: no sentence passed over
    assert errors == []


def test_markup_in_articles_is_shown_not_run(tmp_path, browser, expect):
    raw = tmp_path / "raw"
    raw.mkdir()
    script, img = "<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">'
    (raw / "xss.txt").write_text(f"Hostile {img} title\n\nThe page said {script} and then {img} in full.\n\nThe end.\n", encoding="utf-8")
    build_corpus([raw], tmp_path / "corpus")
    p = {"labels": tmp_path / "labels", "corpus": tmp_path / "corpus", "project": Project.at(tmp_path)}
    errors: list[str] = []
    with serving(p, suggestions=False) as srv:
        page = open_page(browser.new_context(), srv.url, errors)
        expect(page.locator("#next")).to_contain_text(script)  # as context
        page.keyboard.press("s")
        expect(page.locator("#text")).to_have_text(f"The page said {script} and then {img} in full.")
        assert img in page.locator("#prev").inner_text()
        page.wait_for_timeout(200)  # time for an onerror to fire, were there an <img>
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img").count() == 0 and page.locator("script").count() == 1
        # no model (as with --no-suggest): nothing pre-ticked, no probabilities
        assert page.locator("#origin").inner_text() == ""
        assert page.eval_on_selector_all("#boxes .p", "els => els.map(e => e.textContent)") == [""] * 5
    assert errors == []


def test_every_key_and_click_without_console_errors(project, browser, expect):
    errors: list[str] = []
    with serving(project) as srv:
        page = open_page(browser.new_context(), srv.url, errors)
        expect(page.locator("#progress")).to_contain_text("0 saved")
        for k in ["1", "2", "3", "4", "0", "j", "j", "Enter", "s", "u", "Enter", "u", "u"]:
            page.keyboard.press(k)
        page.locator("#boxes input").nth(3).click()  # blame by mouse
        page.keyboard.press("Enter")
        expect(page.locator("#progress")).to_contain_text("1 saved")
        expect(page.locator("#message")).to_have_text("")
        assert page.locator("#error").inner_text() == ""
    assert errors == []
