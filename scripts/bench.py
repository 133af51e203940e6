#!/usr/bin/env python3
"""Keyhaven's hot paths under load, measured from a separate process.

    scripts/bench.py                    # every workload, 10 s each after a 2 s warm-up
    BENCH_SECONDS=20 scripts/bench.py jwks introspect_one
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench.py refresh_pg

It builds the release binary, starts it with a fresh data folder (SQLite, or PostgreSQL for the
`_pg` workloads), makes the clients, people and tokens each workload needs with the command line
and the HTTP API, and drives each workload with wrk (2 threads, 32 keep-alive connections unless
the workload says otherwise). For each it prints requests/s, p50 and p99 latency, the server's CPU
(percent of one core) and resident memory, and the same figures for GET /healthz, a no-op
endpoint of the same server, as the machine's ceiling in that run.

Needs: wrk (Debian package `wrk`), python3 (standard library only). BENCH_BINARY=path runs another
build (a baseline) instead of building this tree's.
"""

import base64
import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "scripts", "bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PASSWORD = "bench " + secrets.token_urlsafe(12)
API = "https://api.bench.example"
# More refresh chains than connections: a connection whose chain is in flight elsewhere always
# finds another one waiting.
CHAINS = 64
API_ES256 = "https://api-es256.bench.example"
API_EDDSA = "https://api-eddsa.bench.example"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Server:
    """A release keyhaven on a fresh data folder, in its own process."""

    def __init__(self, binary, database_url=None, extra_env=None):
        self.dir = tempfile.mkdtemp(prefix="keyhaven-bench-")
        os.chmod(self.dir, 0o700)
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "KEYHAVEN_DATA_DIR": os.path.join(self.dir, "data"),
            "KEYHAVEN_KEK": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
            "KEYHAVEN_LISTEN": "127.0.0.1:0",
            "KEYHAVEN_LOG_LEVEL": "warn,keyhaven=info",
            # The load comes from one address: keep the per-IP limiters out of the way.
            "KEYHAVEN_RATE_LIMIT_API": "100000000/1s",
            "KEYHAVEN_RATE_LIMIT_INTROSPECT": "100000000/1s",
            "KEYHAVEN_RATE_LIMIT_PAGES": "100000000/1s",
            "KEYHAVEN_RATE_LIMIT_AUTHORIZE": "100000000/1s",
            "KEYHAVEN_DEV_INSECURE_COOKIES": "true",
            "KEYHAVEN_MAX_CONNECTIONS": "4096",
        }
        if database_url:
            self.env["KEYHAVEN_DATABASE_URL"] = database_url
        self.env.update(extra_env or {})
        self.binary = binary
        self.proc = None
        self.address = None

    def cli(self, *args, stdin=None):
        out = subprocess.run(
            [self.binary, "--json", *args],
            cwd=self.dir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"keyhaven {' '.join(args)}: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve"], cwd=self.dir, env=self.env, stderr=subprocess.PIPE, text=True
        )
        found = {}

        def read():
            for line in self.proc.stderr:
                if "addr" not in found:
                    m = re.search(r"addr=(\S+)", line)
                    if m:
                        found["addr"] = m.group(1)

        threading.Thread(target=read, daemon=True).start()
        for _ in range(600):
            if "addr" in found:
                self.address = "http://" + found["addr"]
                return self
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    # HTTP helpers

    def post_form(self, path, form, auth=None, opener=None, cookie=None):
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.address + path, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            request.add_header("Authorization", "Basic " + token)
        if cookie:
            request.add_header("Cookie", cookie)
        try:
            with (opener or urllib.request.build_opener(NoRedirect)).open(request) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def client_credentials_token(self, client, resource=API):
        status, _, body = self.post_form(
            "/token",
            {"grant_type": "client_credentials", "resource": resource},
            auth=(client["client_id"], client["client_secret"]),
        )
        if status != 200:
            raise RuntimeError(f"client_credentials: {status} {body}")
        return json.loads(body)["access_token"]

    def code_flow(self, client, username, resource=API):
        """Signs in as `username` in a fresh cookie jar and returns the token response."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": "https://rp.bench.example/cb",
                "scope": "openid offline_access",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "resource": resource,
            }
        )

        def get(path):
            try:
                with opener.open(self.address + path) as r:
                    return r.status, r.headers, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.headers, e.read().decode()

        status, headers, _ = get("/authorize?" + query)
        login = headers["Location"]
        _, _, page = get(login)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        request_id = re.search(r'name="request" value="([^"]+)"', page).group(1)
        status, headers, body = self.post_form(
            "/login",
            {"csrf_token": csrf, "request": request_id, "login": username, "password": PASSWORD},
            opener=opener,
        )
        location = headers["Location"]
        for _ in range(5):
            if location.startswith("https://rp.bench.example/cb"):
                break
            status, headers, _ = get(location)
            location = headers["Location"]
        code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
        status, _, body = self.post_form(
            "/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://rp.bench.example/cb",
                "code_verifier": verifier,
            },
            auth=(client["client_id"], client["client_secret"]),
        )
        if status != 200:
            raise RuntimeError(f"code exchange: {status} {body}")
        return json.loads(body)


def wrk(url, script, args=(), connections=CONNECTIONS, seconds=SECONDS, env=None):
    """Runs wrk with `script` (and its arguments); returns (requests/s, p50 ms, p99 ms, errors)."""
    command = [
        "wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
        os.path.join(LUA, script), url, "--", *args,
    ]
    out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True)
    text = out.stdout

    def latency(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(g) for g in m.groups())
    bad = re.search(r"^bad responses: (\d+)", text, re.M)
    if bad:
        errors += int(bad.group(1))
    rotations = re.search(r"^rotations: (\d+)", text, re.M)
    if rotations:
        # The refresh workload counts what it is about: rotations that gave a new token.
        rps = int(rotations.group(1)) / seconds
    if out.stderr.strip():
        log(out.stderr.strip()[:500])
    return rps, latency(50), latency(99), errors


def measured(server, url, script, args=(), warmup=True, **kw):
    """Warm up, then measure the workload with the server's CPU and RSS."""
    if warmup and WARMUP:
        wrk(url, script, args, seconds=WARMUP, **kw)
    cpu0, t0 = server.cpu_seconds(), time.time()
    rps, p50, p99, errors = wrk(url, script, args, **kw)
    cpu = 100 * (server.cpu_seconds() - cpu0) / (time.time() - t0)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "cpu": cpu, "rss": server.rss_mb()}


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def setup(server):
    """Clients and people every workload may use."""
    service = server.cli(
        "client", "create", "--name", "bench service", "--grant-type", "client_credentials",
        "--audience", API, "--scope", "read",
    )
    rs = server.cli(
        "client", "create", "--name", "bench api", "--grant-type", "client_credentials",
        "--audience", API, "--permission", "introspect",
    )
    rp = server.cli(
        "client", "create", "--name", "bench app", "--first-party", "--redirect-uri",
        "https://rp.bench.example/cb", "--audience", API, "--scope", "openid", "--scope", "offline_access",
    )
    server.cli("user", "create", "--username", "bench", "--email", "bench@bench.example", "--password-stdin",
               stdin=PASSWORD + "\n")
    clients = {"service": service, "rs": rs, "rp": rp}
    # Resource servers that want ES256 and EdDSA access tokens (the registry of `keyhaven resource`).
    for alg, audience in [("ES256", API_ES256), ("EdDSA", API_EDDSA)]:
        try:
            server.cli("resource", "add", "--uri", audience, "--name", f"bench {alg}", "--alg", alg)
        except RuntimeError as e:
            log(f"no {alg} resource server ({e}); its client_credentials row is skipped")
            continue
        clients[alg] = server.cli(
            "client", "create", "--name", f"bench service {alg}", "--grant-type", "client_credentials",
            "--audience", audience, "--scope", "read",
        )
        if alg == "ES256":
            # An app whose ID tokens and API access tokens are both ES256: refresh rotation with
            # the cheap signature, beside the RS256 default.
            clients["rp_es256"] = server.cli(
                "client", "create", "--name", "bench app ES256", "--first-party", "--redirect-uri",
                "https://rp.bench.example/cb", "--audience", audience, "--scope", "openid",
                "--scope", "offline_access", "--id-token-alg", "ES256",
            )
    return clients


def basic(client):
    return base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()


def run(workloads):
    binary = os.environ.get("BENCH_BINARY")
    if not binary:
        binary = os.path.join(ROOT, "target", "release", "keyhaven")
        log("== building the release binary")
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "keyhaven"], cwd=ROOT, check=True)
    results = []
    scratch = tempfile.mkdtemp(prefix="keyhaven-bench-data-")
    server = Server(binary).start()
    try:
        clients = setup(server)
        url = server.address
        log(f"== server {url} pid {server.proc.pid}, {os.cpu_count()} cores")
        results.append(("GET /healthz (ceiling)", measured(server, url + "/healthz", "get.lua")))
        # The machine's own limits, measured now with the server's parameters and keys: the
        # password-check and signing rates the login and client_credentials figures compare to.
        try:
            limits = server.cli("calibrate", "--seconds", str(max(2, SECONDS // 2)))
        except RuntimeError as e:
            log(f"no limits measured ({e})")
            limits = {"password_checks_per_s": float("nan"), "signatures_per_s": {}}
        results.append(("limit: password checks (keyhaven calibrate)", {"rps": limits["password_checks_per_s"]}))
        for alg, rate in sorted(limits["signatures_per_s"].items()):
            results.append((f"limit: {alg} signatures (keyhaven calibrate)", {"rps": rate}))
        if "jwks" in workloads:
            results.append(("GET /jwks", measured(server, url + "/jwks", "get.lua")))
        if "cc" in workloads:
            results.append(("client_credentials (RS256)", measured(
                server, url + "/token", "post.lua",
                ["Basic " + basic(clients["service"]), f"grant_type=client_credentials&resource={urllib.parse.quote(API)}"])))
            for alg, audience in [("ES256", API_ES256), ("EdDSA", API_EDDSA)]:
                if clients.get(alg):
                    results.append((f"client_credentials ({alg})", measured(
                        server, url + "/token", "post.lua",
                        ["Basic " + basic(clients[alg]), f"grant_type=client_credentials&resource={urllib.parse.quote(audience)}"])))
        if "introspect_one" in workloads or "introspect_many" in workloads:
            rs_auth = "Basic " + basic(clients["rs"])
            if "introspect_one" in workloads:
                token = server.client_credentials_token(clients["service"])
                results.append(("introspect, one token repeated", measured(
                    server, url + "/introspect", "post.lua", [rs_auth, "token=" + token])))
            if "introspect_many" in workloads:
                tokens = [server.client_credentials_token(clients["service"]) for _ in range(2000)]
                path = write_lines(os.path.join(scratch, "tokens"), tokens)
                results.append(("introspect, 2,000 distinct tokens", measured(
                    server, url + "/introspect", "introspect_many.lua", [rs_auth, path])))
        if "refresh" in workloads:
            results.extend(refresh_workloads(server, clients, scratch, "SQLite"))
        if "login" in workloads:
            results.append(("password login (right password)", login_workload(server, scratch)))
        if "flood" in workloads:
            results.extend(flood_workload(server, clients, scratch))
        time.sleep(2)
        results.append(("RSS 2 s after the runs above (MB)", {"rss": server.rss_mb()}))
    finally:
        server.stop()
    if "refresh_pg" in workloads:
        pg = os.environ.get("BENCH_POSTGRES_URL")
        if pg:
            results.extend(postgres_workloads(binary, pg, scratch))
        else:
            log("refresh_pg: set BENCH_POSTGRES_URL to run it")
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def login_form(server):
    """One cookie and its CSRF token: every POST /login replays them (the CSRF token is bound to
    the cookie, and a sign-in from a browser that has one ends its previous session)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
    with opener.open(server.address + "/login") as r:
        page = r.read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    body = urllib.parse.urlencode({"csrf_token": csrf, "login": "bench", "password": PASSWORD})
    return cookie, body


def login_workload(server, scratch):
    cookie, body = login_form(server)
    return measured(server, server.address + "/login", "login.lua", [cookie, body], connections=8)


def flood_workload(server, clients, scratch):
    """client_credentials p99 alone, then while a login flood runs beside it."""
    cc_args = ["Basic " + basic(clients["service"]), f"grant_type=client_credentials&resource={urllib.parse.quote(API)}"]
    alone = wrk(server.address + "/token", "post.lua", cc_args, connections=4)
    cookie, body = login_form(server)
    flood = threading.Thread(
        target=wrk, args=(server.address + "/login", "login.lua", [cookie, body]),
        kwargs={"connections": 32, "seconds": SECONDS + 2},
    )
    flood.start()
    time.sleep(1)
    during = wrk(server.address + "/token", "post.lua", cc_args, connections=4)
    flood.join()
    return [
        ("client_credentials p99, alone (4 connections)", {"rps": alone[0], "p50": alone[1], "p99": alone[2], "errors": alone[3]}),
        ("client_credentials p99, during a login flood", {"rps": during[0], "p50": during[1], "p99": during[2], "errors": during[3]}),
    ]


def refresh_workloads(server, clients, scratch, database):
    """Refresh rotation with RS256 access and ID tokens (the defaults), then with ES256 ones."""
    rows = []
    for name, resource, algs in [("rp", API, "RS256"), ("rp_es256", API_ES256, "ES256")]:
        if name not in clients:
            continue
        chains = [server.code_flow(clients[name], "bench", resource)["refresh_token"] for _ in range(CHAINS)]
        path = write_lines(os.path.join(scratch, f"refresh-{name}-{database}"), chains)
        rows.append((f"refresh rotation, {algs} tokens, {CHAINS} chains on 16 connections, {database}", measured(
            server, server.address + "/token", "refresh.lua", ["Basic " + basic(clients[name]), path, str(THREADS)],
            connections=16, warmup=False)))
    return rows


def postgres_workloads(binary, admin_url, scratch):
    name = "keyhaven_bench_" + secrets.token_hex(4)
    subprocess.run(["psql", admin_url, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    server = Server(binary, database_url=url).start()
    try:
        clients = setup(server)
        return refresh_workloads(server, clients, scratch, "PostgreSQL")
    finally:
        server.stop()
        subprocess.run(["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


def table(results):
    lines = [
        "| workload | requests/s | p50 ms | p99 ms | errors | server CPU % | RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results:
        def f(key, fmt):
            return fmt.format(r[key]) if key in r else ""
        lines.append(
            f"| {name} | {f('rps', '{:,.0f}')} | {f('p50', '{:.2f}')} | {f('p99', '{:.2f}')} | "
            f"{f('errors', '{}')} | {f('cpu', '{:.0f}')} | {f('rss', '{:.0f}')} |"
        )
    return "\n".join(lines)


ALL = ["jwks", "cc", "introspect_one", "introspect_many", "refresh", "login", "flood", "refresh_pg"]

if __name__ == "__main__":
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    chosen = sys.argv[1:] or ALL
    unknown = [w for w in chosen if w not in ALL]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {ALL}")
    print(table(run(chosen)))
