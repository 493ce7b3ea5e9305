"""Every command in the README runs, as a reader would run it, against a running system.

The README's shell blocks are read in order. A block preceded by `<!-- readme: terminal 1 -->` is the server
terminal (`make run`): it is started in the background (a later one replaces the earlier, as a reader would
press Ctrl-C and start it again) and waited for until `/readyz` answers. Every other `sh` block runs in one
persistent bash session, "terminal 2", with `set -euo pipefail`, so a variable set in one block is there in
the next and any failing command fails the test. `# → text` comments state what the output shows; `…` stands
for anything. `make test` is the suite itself and is the only command not run here. The README's port 8000
(and 8081, the one `kp serve` uses) is replaced by a free port. Both terminals work in a fresh copy of the
checkout (without its `.venv`, `.tools` and `var/`), so `make run` builds its own tools and environment as on a
fresh clone, the README's relative paths (`var/mail/`, `examples/…`) hold, and the reader's own `var/` and
environment are left alone.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kp_cli.nats_server import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DIRECTIVE = re.compile(r"<!--\s*readme:\s*(?P<what>[^>]*?)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")
EXPECTATION = re.compile(r"#\s*→\s*(?P<text>.+)$", re.MULTILINE)
END = "__README_BLOCK_END__"


@dataclass(frozen=True)
class Block:
    heading: str
    line: int
    text: str
    terminal: str  # "1": the server; "2": the commands

    @property
    def name(self) -> str:
        return f"{self.heading} (README.md:{self.line})"

    def expectations(self) -> list[re.Pattern[str]]:
        found = []
        for match in EXPECTATION.finditer(self.text):
            parts = [re.escape(part.strip()) for part in match.group("text").split("…")]
            found.append(re.compile(r".*?".join(parts), re.DOTALL))
        return found


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    heading, directive, inside, start, lines = "", "", False, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if inside:
            if fence and not fence.group("lang"):
                blocks.append(Block(heading, start, "\n".join(lines), "1" if "terminal 1" in directive else "2"))
                inside, directive = False, ""
            else:
                lines.append(line)
            continue
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        elif (match := DIRECTIVE.search(line)) is not None:
            directive = match.group("what")
        elif fence and fence.group("lang") == "sh":
            inside, start, lines = True, number, []
        elif line.strip():
            directive = directive if line.lstrip().startswith("<!--") else ""
    return blocks


def without_make_test(script: str) -> str:
    """`make test` is this suite: the one README command not run here."""
    return "\n".join(line for line in script.splitlines() if not re.match(r"^\s*make test\b", line))


class Terminal:
    """A persistent bash session: blocks run one after another, sharing variables and the working folder."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.run("set -euo pipefail")

    def run(self, script: str, timeout: float = 240.0) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        # The marker on a line of its own, even after output without a final newline.
        self.process.stdin.write(f"{script}\nprintf '\\n%s\\n' {END}\n")
        self.process.stdin.flush()
        output = ""
        deadline = time.monotonic() + timeout
        # Read with a deadline: a failed command ends the shell (set -e), but a background job it started may
        # still hold the pipe open, so the end of the output would never come.
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536).decode(errors="replace")
                if not chunk:
                    break
                output += chunk
                if f"\n{END}\n" in f"\n{output}":
                    return output.replace(f"{END}\n", "")
            elif self.process.poll() is not None:
                break
        raise AssertionError("the block failed or stopped the shell; its output:\n" + output[-4000:])

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class Server:
    """Terminal 1: `make run` in the background, restarted when the README starts it again."""

    def __init__(self, env: dict[str, str], base_url: str, log: Path, cwd: Path) -> None:
        self.env, self.base_url, self.log, self.cwd = env, base_url, log, cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, script: str) -> None:
        self.stop()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", f"set -euo pipefail\n{script}"], cwd=self.cwd, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"`make run` exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"not ready within 180 s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as a reader stops it
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@dataclass(frozen=True)
class Setting:
    env: dict[str, str]
    ports: dict[str, str]
    checkout: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['8000']}"

    def localise(self, script: str) -> str:
        for readme_port, port in self.ports.items():
            script = script.replace(f"127.0.0.1:{readme_port}", f"127.0.0.1:{port}")
            script = script.replace(f"--port {readme_port}", f"--port {port}")
        return without_make_test(script)


def _not_in_a_fresh_clone(folder: str, names: list[str]) -> set[str]:
    """What a fresh clone does not have: the environment, the tools, data and caches. node_modules is copied (the
    images and CI fetch it with `npm ci` from the same lock file) to spare the test a download."""
    skipped = {".git", ".venv", ".tools", "var", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__"}
    return {name for name in names if name in skipped}


@pytest.fixture
def setting(tmp_path: Path) -> Iterator[Setting]:
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, symlinks=True, ignore=_not_in_a_fresh_clone)
    ports = {"8000": str(free_port()), "8081": str(free_port())}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KP_", "OTEL_", "VIRTUAL_ENV"))}
    env.update({"KP_PORT": ports["8000"], "KP_NATS_PORT": str(free_port())})
    yield Setting(env, ports, checkout)


def test_the_readme_blocks_are_found() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert any(b.terminal == "1" for b in blocks), "the README starts the system with `make run`"
    assert sum(1 for b in blocks if b.terminal == "2") >= 4
    assert any("make test" in b.text for b in blocks)


def test_every_readme_command_works_against_a_running_system(setting: Setting, tmp_path: Path) -> None:
    server = Server(setting.env, setting.base_url, tmp_path / "make-run.log", setting.checkout)
    terminal = Terminal(setting.env, setting.checkout)
    try:
        for block in readme_blocks(README.read_text(encoding="utf-8")):
            script = setting.localise(block.text)
            if block.terminal == "1":
                server.start(script)
                continue
            output = terminal.run(script)
            for expected in block.expectations():
                assert expected.search(output), f"{block.name}: `{expected.pattern}` not in:\n{output[-3000:]}"
    finally:
        terminal.close()
        server.stop()
