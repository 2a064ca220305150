"""world.py -- the real thing, for joinedreview-web's browser test and
benchmark: a database of its own in the throwaway cluster (the CTest `pg`
fixture), the real daemon with a fixed --today, the six funding streams'
real adapters on their sample exports, the real `joinedreview push`, a
login of joinedreview_web, accounts made with `joinedreview-web
--add-account`, a self-signed certificate, and the real web service over
TLS. Everything is started here and stopped by stop(), whatever failed.
"""
import base64
import hashlib
import http.client
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse

TODAY = "2026-11-20"


class World:
    def __init__(self, args, name):
        self.args = args
        self.name = name
        self.dir = os.path.join(args.pgdir, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, mode=0o700)
        self.procs = []
        self.db = "jr_" + name
        self.admin = "host=%s user=postgres dbname=%s" % (args.pgdir, self.db)
        self.passwords = {}
        self.ingest = None
        self.url = None

    # ---- processes -------------------------------------------------------
    def start(self, argv, log_name, ready, timeout=60, stdin=None):
        """Starts argv with stderr to a log; waits for a line matching ready."""
        log_path = os.path.join(self.dir, log_name)
        log = open(log_path, "wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=stdin)
        self.procs.append(proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(log_path, "r", errors="replace") as f:
                m = re.search(ready, f.read())
            if m:
                return m
            if proc.poll() is not None:
                raise RuntimeError("%s exited: see %s" % (argv[0], log_path))
            time.sleep(0.05)
        raise RuntimeError("%s not ready after %d s: see %s" % (argv[0], timeout, log_path))

    def stop(self):
        """Stops every process; returns those that did not exit 0 on
        SIGTERM (under the sanitizers, a leak or an error found at exit)."""
        bad = []
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.returncode != 0:
                bad.append("%s exited %d" % (os.path.basename(proc.args[0]), proc.returncode))
        self.procs = []
        return bad

    def psql(self, sql, db=None):
        conninfo = "host=%s user=postgres dbname=%s" % (self.args.pgdir, db or self.db)
        out = subprocess.run(["psql", conninfo, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql: %s" % out.stderr)
        return out.stdout.strip()

    # ---- the pieces --------------------------------------------------------
    def database(self):
        self.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db, db="postgres")
        self.psql("CREATE DATABASE %s" % self.db, db="postgres")

    def daemon(self, extra=()):
        argv = [self.args.daemon,
                "--set", "daemon.database=" + self.admin,
                "--set", "daemon.security=plaintext-development",
                "--set", "daemon.pseudonymised_endpoint=tcp://127.0.0.1:*",
                "--set", "daemon.statistics_endpoint=tcp://127.0.0.1:*",
                "--set", "daemon.catchup_endpoint=tcp://127.0.0.1:*",
                "--ingest", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                "--today", TODAY] + list(extra)
        m = self.start(argv, "daemon.log", r"ready: ingest ([^,]+),")
        self.ingest = m.group(1)

    def adapters(self):
        for stream in ("SP", "ILF", "ICES", "ATW", "DFG", "SC"):
            lower = stream.lower()
            inbox = os.path.join(self.dir, "inbox", stream)
            os.makedirs(inbox)
            shutil.copy(os.path.join(self.args.source, "adapters", lower, "sample.csv"),
                        os.path.join(inbox, lower + "-export.csv"))
            with open(os.path.join(self.dir, "adapters.log"), "ab") as log:
                rc = subprocess.run([self.args.adapter, "--stream", stream, "--endpoint",
                                     self.ingest, "--inbox", inbox, "--state",
                                     os.path.join(self.dir, "state", stream), "--timeout", "120"],
                                    stdout=log, stderr=log).returncode
            if rc > 1:
                raise RuntimeError("adapter %s failed (%d)" % (stream, rc))

    def push(self, lines):
        path = os.path.join(self.dir, "push.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = subprocess.run([self.args.cli, "push", "--endpoint", self.ingest, "--timeout", "60",
                              path], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("push: %s %s" % (out.stdout, out.stderr))
        return out.stdout

    def web_login(self):
        """A login of joinedreview_web (the group the migration made)."""
        self.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jr_web_test') "
                  "THEN CREATE ROLE jr_web_test LOGIN IN ROLE joinedreview_web; END IF; END $$")
        return "host=%s user=jr_web_test dbname=%s" % (self.args.pgdir, self.db)

    def certificate(self):
        key = os.path.join(self.dir, "web.key")
        crt = os.path.join(self.dir, "web.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
        # The certificate's public key digest, which chromium is told to
        # trust (--ignore-certificate-errors-spki-list): a connection it
        # trusts keeps Secure cookies, as a real certificate would.
        der = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", crt], check=True,
                             capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der,
                             check=True, capture_output=True).stdout
        self.spki = base64.b64encode(hashlib.sha256(der).digest()).decode()
        return crt, key

    def config(self, lines):
        path = os.path.join(self.dir, "web.conf")
        with open(path, "w") as f:
            f.write("[web]\n" + "\n".join(lines) + "\n")
        return path

    def https(self, path, cookie=None, method="GET", body=None, headers=None):
        """One request to the service on a connection of its own, trusting
        its self-signed certificate: (status, headers, text)."""
        u = urllib.parse.urlsplit(self.url)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.getheaders(), r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def web_config(self, extra=()):
        """The service's configuration over TLS on a port of its own, with
        this world's database login and accounts file, plus extra lines."""
        crt, key = self.certificate()
        return self.config(["listen_address = 127.0.0.1", "port = 0",
                            "tls_cert_file = " + crt, "tls_key_file = " + key,
                            "accounts_file = " + os.path.join(self.dir, "accounts"),
                            "database = " + self.web_login(), "threads = 2"] + list(extra))

    def stop_clean(self):
        """stop(), failing when anything did not end cleanly on SIGTERM
        (under the sanitizers that also says nothing leaked)."""
        bad = self.stop()
        if bad:
            raise AssertionError("; ".join(bad) + " (logs in %s)" % self.dir)

    def account(self, conf, name, role, *scope):
        password = "pw-" + secrets.token_urlsafe(12)
        subprocess.run([self.args.web, "--config", conf, "--add-account", name, role] +
                       list(scope), input=password + "\n", text=True, check=True,
                       capture_output=True)
        self.passwords[name] = password
        return password

    def web(self, conf, extra=()):
        m = self.start([self.args.web, "--config", conf, "--today", TODAY] + list(extra),
                       "web.log", r"ready: (https?://[^/]+/)", timeout=120)
        self.url = m.group(1).rstrip("/")
        return self.url
