"""Benchmark of the bulk route end to end, against the raw PostgreSQL floor and the naive ORM path.

Starts the service as `make run` would (manage.py serve, PostgreSQL + Redis, one separate
worker) on a database of its own, then prints one table and the ratio lines.
    .venv/bin/python bench/bulk.py [--sizes 100,1000,10000] [--repeat 5]
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# A database of this run's own: the workers of a run that was killed, if any are left,
# find nothing of it to take.
DB = f"contacts_bench_{os.getpid()}"
LOG = Path(os.environ.get("BENCH_LOG", "/tmp/contacts-bench-service.log"))


def contact(i: int, tag: str) -> dict:
    return {
        "email": f"person{i}@bench.test",
        "firstName": f"First{i}", "lastName": f"Last{i} {tag}",
        "companyName": f"Company {i % 997}", "companyIndustry": "Software",
        "companySize": "11-50", "companyDescription": "Makes things " * 8,
        "companyWebsite": f"https://company{i % 997}.example.com",
        "city": "Paris", "country": "France", "zipcode": "75001", "language": "fr",
        "mobilePhone": "+33600000000", "phone": "+33100000000",
        "pictureUrl": f"https://pictures.example.com/{i}.png", "jobTitle": "Engineer",
        "linkedinUrl": f"https://www.linkedin.com/in/person-{i}",
        "collectedAt": "2026-11-01T10:00:00Z", "source": "api",
        "vars": {"tag": tag, "rank": i},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_database() -> None:
    drop_database()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DB}")


def drop_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


class Service:
    def __init__(self):
        self.port = free_port()
        run = uuid.uuid4().hex[:6]
        self.env = {
            **os.environ, "DATABASE_URL": f"{PG}/{DB}", "REDIS_URL": REDIS_URL,
            # Keys of this run's own: the database is new, so user ids repeat an earlier run's,
            # and their rate-limit counters must not carry over.
            "CHANNELS_REDIS_PREFIX": f"bench-{run}", "CACHE_KEY_PREFIX": f"bench-{run}", "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "contacts_project.settings.base",
        }
        self.manage([ "migrate", "--noinput", "-v0"])
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port), "--workers", "1"],
            cwd=ROOT, env=self.env, stdout=open(LOG, "wb"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, args: list[str]) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              check=True, capture_output=True, text=True).stdout

    def token(self, account: str) -> str:
        client = json.loads(self.manage(["create_api_client", "--account", account, "--email", f"{account}@bench.test"]))
        return httpx.post(f"{self.base}/o/token/", data={
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}).json()["access_token"]

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM (peak resident set) of each process of the service: daphne, its validation
        helper and the worker."""
        peaks = {}
        for pid in _descendants(self.process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
            name = _role(pid)
            peaks[name] = max(peaks.get(name, 0), int(hwm.split()[1]) / 1024)
        return peaks

    def cpu_seconds(self, r: redis.Redis) -> dict[str, float]:
        """CPU time used so far by the server, the worker, PostgreSQL and Redis; the
        benchmark's own process is the client."""
        used = {"client": time.process_time()}
        for pid in _descendants(self.process.pid):
            name = _role(pid)
            used[name] = used.get(name, 0.0) + _cpu(pid)
        # PostgreSQL: the postmaster with what its ended children used, and its live children.
        postmaster = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True).stdout.strip()
        used["postgres"] = _cpu(postmaster, children_ended=True) + sum(_cpu(pid) for pid in _children(postmaster))
        used["redis"] = _cpu(str(r.info("server")["process_id"]))
        return used

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _children(pid) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()


def _descendants(pid) -> list[str]:
    """The processes `manage.py serve` started (daphne, the workers) and theirs (daphne's
    validation helper)."""
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _role(pid: str) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_text()
    except FileNotFoundError:
        return "server"
    return "worker" if "bulk_worker" in cmd else "helper" if "validation_helper" in cmd else "server"


def _cpu(pid: str, children_ended: bool = False) -> float:
    """User and system CPU seconds of a process (0 if it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children_ended else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def layer_messages(r: redis.Redis) -> int:
    """Channel-layer messages sent. channels-redis runs two ZRANGE-family reads of the
    group (counted as cmdstat_zrange) per group_send, and no other ZRANGE."""
    return r.info("commandstats").get("cmdstat_zrange", {}).get("calls", 0) // 2


ENDING = "contact_bulk_create_ending"


class Client:
    """The benchmark's HTTP and WebSocket client (aiohttp), made before any clock starts.

    It shares the service's two cores, so it does as little as a client can while a job
    runs: its frames are read by aiohttp's compiled reader, kept as they came, and decoded
    and checked once the clock has stopped. (The websockets library's client, decoding each
    frame as it came, cost 0.07-0.19 s of CPU per 10,000-contact job.)"""

    def __init__(self, service: "Service"):
        self.service = service
        self.loop = asyncio.new_event_loop()
        self.session = self.loop.run_until_complete(self._session())

    @staticmethod
    async def _session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.close()

    async def job(self, token: str, contacts: list[dict], list_name: str, r: redis.Redis, measured: bool = True) -> dict:
        """Post the contacts and read the socket up to the job's `ending` (measured: the
        CPU used and the channel-layer messages sent meanwhile too)."""
        # The body is encoded before the clock starts: the client's JSON encoder is not the service.
        body = json.dumps({"list": {"name": list_name}, "contacts": contacts}).encode()
        service = self.service
        async with self.session.ws_connect(f"ws://127.0.0.1:{service.port}/ws/?access_token={token}", max_msg_size=0) as ws:
            before = layer_messages(r) if measured else 0
            cpu_before = service.cpu_seconds(r) if measured else {}
            start = time.perf_counter()
            async with self.session.post(f"{service.base}/api/v1/contacts/bulk", data=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as response:
                accepted = time.perf_counter() - start
                answer = await response.text()
            assert response.status == 202, answer
            job = json.loads(answer)["uuid"]
            texts = []
            async with asyncio.timeout(300):  # one for the whole read: one per frame costs ~5 us each
                while True:
                    message = await ws.receive()
                    assert message.type == aiohttp.WSMsgType.TEXT, message
                    texts.append(message.data)
                    if ENDING in message.data and json.loads(message.data)["data"]["uuid"] == job:
                        break
            ended = time.perf_counter() - start
            cpu_after = service.cpu_seconds(r) if measured else {}
        events = job_events(texts, job=job)
        cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        return {"accepted": accepted, "ended": ended, "frames": len(events), "in_order": in_order(events, len(contacts)), "cpu": cpu,
                "messages": layer_messages(r) - before if measured else None, "ending": events[-1]["data"]}


def job_events(texts: list[str], *, job: str) -> list[dict]:
    """The job's events among the frames."""
    return [event for event in map(json.loads, texts) if event["data"]["uuid"] == job]


def in_order(events: list[dict], total: int) -> bool:
    """`starting`, one `running` per contact in order, then `ending`."""
    kinds = [event["event"].rsplit("_", 1)[1] for event in events]
    indexes = [event["data"].get("i") for event in events[1:-1]]
    return kinds == ["starting", *["running"] * total, "ending"] and indexes == list(range(total))


def raw_floor(contacts: list[dict]) -> float:
    """COPY the rows into a temp table, then one INSERT ... ON CONFLICT DO UPDATE."""
    cols = ["email_key", "email", "first_name", "last_name", "company_name", "company_industry", "company_size",
            "company_description", "company_website", "city", "country", "zipcode", "language", "mobile_phone",
            "phone", "picture_url", "job_title", "linkedin_url", "source", "vars"]
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS floor_contact (id bigserial primary key, account_id int, "
                     + ", ".join(f"{c} {'jsonb' if c == 'vars' else 'text'}" for c in cols)
                     + ", UNIQUE (account_id, email_key))")
        conn.execute("TRUNCATE floor_contact")
        half = contacts[: len(contacts) // 2]
        for batch, label in ((half, "seed"), (contacts, "timed")):
            start = time.perf_counter()
            with conn.transaction():
                conn.execute("CREATE TEMP TABLE incoming (LIKE floor_contact INCLUDING DEFAULTS) ON COMMIT DROP")
                with conn.cursor().copy(f"COPY incoming (account_id, {', '.join(cols)}) FROM STDIN") as copy:
                    for c in batch:
                        copy.write_row([1, c["email"].lower(), c["email"], c["firstName"], c["lastName"], c["companyName"],
                                        c["companyIndustry"], c["companySize"], c["companyDescription"], c["companyWebsite"],
                                        c["city"], c["country"], c["zipcode"], c["language"], c["mobilePhone"], c["phone"],
                                        c["pictureUrl"], c["jobTitle"], c["linkedinUrl"], c["source"], json.dumps(c["vars"])])
                updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != "email_key")
                conn.execute(f"INSERT INTO floor_contact (account_id, {', '.join(cols)}) "
                             f"SELECT account_id, {', '.join(cols)} FROM incoming "
                             f"ON CONFLICT (account_id, email_key) DO UPDATE SET {updates} RETURNING (xmax = 0)").fetchall()
            elapsed = time.perf_counter() - start
    return elapsed


def table_floor(service: Service, n: int, repeat: int) -> float:
    """The raw floor again, into the service's own contacts table (its indexes, foreign
    keys and fill factor) instead of a bare one: how much of the gap the schema costs."""
    code = f"""
import json, statistics, sys, time, uuid
from django.db import connection, transaction
from accounts.models import Account, User
from lists.models import ContactList
sys.path.insert(0, "bench")
from bulk import contact
cols = ["email", "email_key", "first_name", "last_name", "company_name", "company_industry", "company_size",
        "company_description", "company_website", "city", "country", "zipcode", "language", "mobile_phone",
        "phone", "picture_url", "job_title", "linkedin_url", "linkedin_key", "source", "vars"]
def row(c):
    return [c["email"], c["email"].lower(), c["firstName"], c["lastName"], c["companyName"], c["companyIndustry"],
            c["companySize"], c["companyDescription"], c["companyWebsite"], c["city"], c["country"], c["zipcode"],
            c["language"], c["mobilePhone"], c["phone"], c["pictureUrl"], c["jobTitle"], c["linkedinUrl"],
            c["linkedinUrl"].split("://", 1)[1], c["source"], json.dumps(c["vars"])]
def upsert(account, owner, lst, batch):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE incoming ON COMMIT DROP AS SELECT {{', '.join(cols)}} FROM contacts_contact WITH NO DATA")
        with cursor.copy(f"COPY incoming ({{', '.join(cols)}}) FROM STDIN") as copy:
            for c in batch:
                copy.write_row(row(c))
        updates = ", ".join(f"{{c}} = EXCLUDED.{{c}}" for c in cols if c not in ("email_key", "linkedin_key"))
        cursor.execute(
            f"INSERT INTO contacts_contact (id, account_id, list_id, owner_id, collected_at, created_at, updated_at, {{', '.join(cols)}}) "
            f"SELECT gen_random_uuid(), %s, %s, %s, now(), now(), now(), {{', '.join(cols)}} FROM incoming "
            f"ON CONFLICT (account_id, email_key) DO UPDATE SET {{updates}}, updated_at = now() RETURNING (xmax = 0)",
            [account.pk, lst.pk, owner.pk])
        cursor.fetchall()
times = []
for _ in range({repeat}):
    account = Account.objects.create(name="floor-" + uuid.uuid4().hex)
    owner = User.objects.create(username="floor-" + uuid.uuid4().hex, account=account)
    lst = ContactList.objects.create(account=account, name="floor")
    upsert(account, owner, lst, [contact(i, "v1") for i in range({n} // 2)])
    batch = [contact(i, "v2") for i in range({n})]
    start = time.perf_counter()
    upsert(account, owner, lst, batch)
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""
    return float(service.manage(["shell", "-c", code]).strip().splitlines()[-1])


def naive(service: Service, n: int) -> float:
    """update_or_create per contact through the ORM (what a first version would do)."""
    code = f"""
import time, json, sys
from django.utils import timezone
from accounts.models import Account
from contacts.models import Contact
from contacts.normalize import email_key, linkedin_key
from lists.models import ContactList
sys.path.insert(0, "bench")
from bulk import contact
account = Account.objects.create(name="naive-" + str(time.time()))
user = account.users.model.objects.create(username="naive" + str(time.time()), account=account)
lst = ContactList.objects.create(account=account, name="naive")
def fields(c):
    return dict(first_name=c["firstName"], last_name=c["lastName"], company_name=c["companyName"], city=c["city"],
                company_description=c["companyDescription"], job_title=c["jobTitle"], linkedin_url=c["linkedinUrl"],
                linkedin_key=linkedin_key(c["linkedinUrl"]), email=c["email"], vars=c["vars"], list=lst, owner=user,
                collected_at=timezone.now())
rows = [contact(i, "naive") for i in range({n})]
for c in rows[: {n} // 2]:
    Contact.objects.update_or_create(account=account, email_key=email_key(c["email"]), defaults=fields(c))
start = time.perf_counter()
for c in rows:
    Contact.objects.update_or_create(account=account, email_key=email_key(c["email"]), defaults=fields(c))
print(time.perf_counter() - start)
"""
    return float(service.manage(["shell", "-c", code]).strip().splitlines()[-1])


def concurrency(service: Service, client: Client, accounts: int, n: int, r: redis.Redis) -> tuple[float, int, bool]:
    tokens = [service.token(f"conc{i}-{uuid.uuid4().hex[:4]}") for i in range(accounts)]

    async def all_at_once():
        return await asyncio.gather(*(
            client.job(tokens[i], [contact(k, f"c{i}") for k in range(n)], "conc", r, measured=False) for i in range(accounts)))

    start = time.perf_counter()
    results = client.run(all_at_once())
    return time.perf_counter() - start, sum(res["frames"] for res in results), all(res["in_order"] for res in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-extras", action="store_true", help="skip the naive path and the concurrency run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # Stopped by a signal, the run still stops its service (its `finally`): a worker left
    # running would take the jobs of the next run that used its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    reset_database()
    service = Service()
    r = redis.Redis.from_url(REDIS_URL)
    client = Client(service)
    rows, cpu, paired, ordered = [], {}, {}, True
    try:
        for n in sizes:
            runs, floors = [], []
            for rep in range(args.repeat):
                token = service.token(f"bench-{n}-{rep}-{uuid.uuid4().hex[:4]}")
                contacts = [contact(i, "v2") for i in range(n)]
                client.run(client.job(token, [contact(i, "v1") for i in range(n // 2)], "bench", r))  # half exist
                runs.append(client.run(client.job(token, contacts, "bench", r)))
                # Right after its job: the machine's speed drifts by tens of percent over a
                # run, and a ratio is only fair between measurements taken side by side.
                floors.append(raw_floor(contacts))
            ordered = ordered and all(run["in_order"] for run in runs)
            floor = statistics.median(floors)
            paired[n] = statistics.median(run["ended"] / f for run, f in zip(runs, floors))
            med = {k: statistics.median(run[k] for run in runs) for k in ("accepted", "ended")}
            rows.append((n, med["accepted"], med["ended"], runs[-1]["frames"], runs[-1]["messages"], floor, runs[-1]["ending"]))
            cpu[n] = {name: statistics.median(run["cpu"].get(name, 0.0) for run in runs) for name in runs[-1]["cpu"]}
        peaks = service.peak_rss_mb()
        table_floor_10k = table_floor(service, 10000, args.repeat) if 10000 in sizes else None
        if not args.no_extras:
            naive_1k = naive(service, 1000)
            conc_time, conc_frames, conc_in_order = concurrency(service, client, 8, 1000, r)
    finally:
        client.close()
        service.stop()
        drop_database()

    print(f"{'N':>6} {'202 (s)':>9} {'ending (s)':>11} {'frames':>7} {'layer msgs':>11} {'raw floor (s)':>14} {'per contact (ms)':>17}  ending")
    for n, acc, end, frames, msgs, floor, ending in rows:
        print(f"{n:>6} {acc:>9.3f} {end:>11.3f} {frames:>7} {msgs:>11} {floor:>14.3f} {1000 * end / n:>17.3f}  {ending}")
    print(f"every job's frames: starting, one running per contact in order, ending: {'yes' if ordered else 'NO'}")
    for n, used in cpu.items():
        parts = ", ".join(f"{name} {used.get(name, 0.0):.2f}" for name in ("server", "helper", "worker", "postgres", "redis", "client"))
        total = sum(used.values())
        print(f"CPU from the post to the ending, {n:,} contacts (s, medians): {parts}; total {total:.2f},"
              f" which {os.cpu_count()} cores take {total / os.cpu_count():.3f} s to run if never idle")
    print(f"peak RSS (MB): server {peaks.get('server', 0):.0f}, its validation helper {peaks.get('helper', 0):.0f},"
          f" worker {peaks.get('worker', 0):.0f}")
    if not args.no_extras:
        print(f"naive update_or_create: 1,000 contacts in {naive_1k:.2f} s; scaled to 10k: {naive_1k * 10:.1f} s")
        print(f"concurrency: 8 accounts x 1,000 contacts at once: {conc_time:.2f} s, {conc_frames} frames (expected {8 * 1002}),"
              f" {'each job' if conc_in_order else 'NOT each job'}'s in order")
    big = [row for row in rows if row[0] == 10000]
    if big:
        _, _, e2e, _, _, floor, _ = big[0]
        print(f"raw floor into the contacts table itself (its indexes and foreign keys), 10k: {table_floor_10k:.3f} s")
        print(f"e2e_10k / raw_floor_10k = {e2e / floor:.1f} (median of each job's ratio to the floor measured right after it: {paired[10000]:.1f})")
        print(f"e2e_10k / table_floor_10k = {e2e / table_floor_10k:.1f}")
        if not args.no_extras:
            print(f"naive_10k / e2e_10k = {naive_1k * 10 / e2e:.1f}")


if __name__ == "__main__":
    main()
