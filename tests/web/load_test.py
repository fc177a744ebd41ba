#!/usr/bin/python3
"""Bounded load and abuse test of animegan2-server, against 127.0.0.1 only (Python standard library only).

200 requests from 8 concurrent clients mix valid photos (raw and multipart) with oversized bodies (declared
and chunked), truncated uploads, non-images, unsupported formats, pixel bombs, malformed multipart, malformed
headers, bad parameters and slow senders. Every valid request must get the picture or a 503 with Retry-After;
every bad one the right 4xx with a JSON error. The server's peak RSS must stay under --rss-limit-mb, it must
still serve afterwards, and SIGTERM while images are in flight must let them finish and exit 0.

Exit status: 0 passed, 1 failed, 77 skipped (no ../shared photos or model).
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

SKIP = 77
HOST = "127.0.0.1"


def skip(reason):
    print("SKIPPED: " + reason)
    sys.exit(SKIP)


# ---------------------------------------------------------------------------------------------------------
# A raw HTTP/1.1 client: the abuse cases need control over every byte and every pause.


class Reply:
    def __init__(self, status=0, headers=None, body=b"", error="", seconds=0.0):
        self.status, self.headers, self.body, self.error, self.seconds = status, headers or {}, body, error, seconds

    def json_error(self):
        try:
            return json.loads(self.body.decode())["error"]["message"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None


def read_reply(sock, deadline):
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response" if not data else "closed inside the headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status, headers, body[:length]


def exchange(port, head, parts=(), pause=0.0, shutdown_write=False, stop_on_reply=False, timeout=60.0):
    """Sends `head`, then each of `parts` (`pause` seconds apart), then reads one response."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        sock = socket.create_connection((HOST, port), timeout=timeout)
    except OSError as e:
        return Reply(error=f"{type(e).__name__}: {e}")
    try:
        try:
            sock.sendall(head)
            for part in parts:
                if stop_on_reply:
                    # The server may answer (and close) before the body is sent: stop sending then.
                    sock.setblocking(False)
                    try:
                        if sock.recv(1, socket.MSG_PEEK):
                            break
                    except BlockingIOError:
                        pass
                    sock.setblocking(True)
                    sock.settimeout(timeout)
                if pause:
                    time.sleep(pause)
                sock.sendall(part)
            if shutdown_write:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer should be waiting
        status, headers, body = read_reply(sock, deadline)
        return Reply(status, headers, body, seconds=time.monotonic() - start)
    except (OSError, ValueError, IndexError) as e:
        return Reply(error=f"{type(e).__name__}: {e}", seconds=time.monotonic() - start)
    finally:
        sock.close()


def post_head(path, length=None, content_type="application/octet-stream", extra=""):
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + extra + "Connection: close\r\n\r\n").encode()


def get(port, path, timeout=10.0):
    return exchange(port, f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode(),
                    timeout=timeout)


def multipart(field, filename, data, boundary="----animegan-test-boundary"):
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def chunked(data, size=65536):
    out = []
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    return out


def png_header(width, height):
    """A PNG signature and IHDR claiming width x height, then an IDAT that never delivers them."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, payload: (struct.pack(">I", len(payload)) + kind + payload +
                                   struct.pack(">I", zlib.crc32(kind + payload)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def with_exif_orientation(jpeg, orientation):
    """The JPEG with an APP1 Exif segment saying `orientation` (1..8) put first."""
    tiff = b"MM\0\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + \
        struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def image_size(data):
    """(width, height) of a PNG or baseline/progressive JPEG, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


# ---------------------------------------------------------------------------------------------------------
# The server under test


class Server:
    def __init__(self, binary, models, extra):
        self.proc = subprocess.Popen([binary, "--models", models, "--port", "0", "--quiet"] + extra,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise SystemExit("server did not start: " + line + self.proc.stderr.read())
        self.port = int(line.rsplit(":", 1)[1].strip().strip("/"))
        self.peak_rss_kb = 0
        self._watching = True
        self._watch = threading.Thread(target=self._watch_rss, daemon=True)
        self._watch.start()

    def status_kb(self, key):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _watch_rss(self):
        while self._watching and self.proc.poll() is None:
            self.peak_rss_kb = max(self.peak_rss_kb, self.status_kb("VmHWM"), self.status_kb("VmRSS"))
            time.sleep(0.05)

    def stop_watching(self):
        self._watching = False
        self._watch.join()

    def peak_rss_mb(self):
        return max(self.peak_rss_kb, self.status_kb("VmHWM")) / 1024

    def kill(self):
        """Stops the server at once (tests that have what they need, or failed)."""
        self.stop_watching()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------------------
# The request mix. Each case returns (kind, reply, expected statuses).

MAX_UPLOAD_MB = 2
MAX_SIDE = 128


def build_cases(photos, rng, count):
    big = bytes(rng.getrandbits(8) for _ in range(4096)) * (MAX_UPLOAD_MB * 1_000_000 // 4096 + 64)
    noise = bytes(rng.getrandbits(8) for _ in range(20000))

    def valid_raw(port):
        photo = rng.choice(photos)
        fmt = rng.choice(["png", "jpeg"])
        return exchange(port, post_head(f"/api/v1/stylize?format={fmt}", len(photo), "image/jpeg"), [photo])

    def valid_multipart(port):
        body, ctype = multipart("image", "photo.jpg", rng.choice(photos))
        return exchange(port, post_head("/api/v1/stylize?size=96", len(body), ctype), [body])

    def oversized_declared(port):  # Content-Length above the limit: refused before the body is read
        return exchange(port, post_head("/api/v1/stylize", len(big), "image/jpeg"),
                        [big[i:i + 65536] for i in range(0, len(big), 65536)], stop_on_reply=True)

    def oversized_chunked(port):  # no length up front: the limit applies while reading
        return exchange(port, post_head("/api/v1/stylize", None, "image/jpeg", "Transfer-Encoding: chunked\r\n"),
                        chunked(big) + [b"0\r\n\r\n"], stop_on_reply=True)

    def truncated(port):  # says N bytes, sends half, closes its side
        photo = rng.choice(photos)
        return exchange(port, post_head("/api/v1/stylize", len(photo), "image/jpeg"), [photo[:len(photo) // 2]],
                        shutdown_write=True)

    def not_an_image(port):
        body = rng.choice([noise, b"<html><body>hello</body></html>", b"%PDF-1.4\n" + noise])
        return exchange(port, post_head("/api/v1/stylize", len(body), "image/jpeg"), [body])

    def heic(port):
        body = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + noise[:2000]
        return exchange(port, post_head("/api/v1/stylize", len(body), "image/heic"), [body])

    def pixel_bomb(port):  # a small PNG claiming 30000 x 30000 pixels
        body = png_header(30000, 30000)
        return exchange(port, post_head("/api/v1/stylize", len(body), "image/png"), [body])

    def corrupt_jpeg(port):  # a JPEG whose header is intact and whose data is noise
        photo = rng.choice(photos)
        body = photo[:600] + noise
        return exchange(port, post_head("/api/v1/stylize", len(body), "image/jpeg"), [body])

    def multipart_no_boundary(port):
        body, _ = multipart("image", "photo.jpg", rng.choice(photos))
        return exchange(port, post_head("/api/v1/stylize", len(body), "multipart/form-data"), [body])

    def multipart_garbage(port):
        body = b"--xyz\r\nthis is not a part header\r\n\r\n" + noise[:3000]
        return exchange(port, post_head("/api/v1/stylize", len(body), "multipart/form-data; boundary=xyz"),
                        [body])

    def garbage_request_line(port):
        return exchange(port, b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n")

    def bad_content_length(port):
        return exchange(port, b"POST /api/v1/stylize HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")

    def no_content_length(port):
        return exchange(port, b"POST /api/v1/stylize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    def huge_header(port):
        return exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 20000 + b"\r\n\r\n")

    def bad_parameter(port):
        photo = rng.choice(photos)
        query = rng.choice(["style=nonexistent", "size=-5", "format=gif", "quality=0", "colour=blue"])
        return exchange(port, post_head("/api/v1/stylize?" + query, len(photo), "image/jpeg"), [photo])

    def wrong_method(port):
        return get(port, "/api/v1/stylize")

    def slow_sender(port):  # a byte every 0.4 s: the request deadline (3 s) cuts it off
        photo = rng.choice(photos)
        parts = [photo[i:i + 1] for i in range(40)]
        return exchange(port, post_head("/api/v1/stylize", len(photo), "image/jpeg"), parts, pause=0.4,
                        stop_on_reply=True)

    def slow_headers(port):  # the request line itself trickles in
        head = b"POST /api/v1/stylize HTTP/1.1\r\nHost: x\r\n"
        return exchange(port, b"", [head[i:i + 2] for i in range(0, len(head), 2)], pause=0.4, stop_on_reply=True)

    # kind: (weight, function, statuses that are right for it)
    kinds = {
        "valid": (60, valid_raw, {200, 503}),
        "valid_multipart": (20, valid_multipart, {200, 503}),
        "oversized_declared": (8, oversized_declared, {413}),
        "oversized_chunked": (5, oversized_chunked, {413}),
        "truncated": (10, truncated, {400}),
        "not_an_image": (10, not_an_image, {415}),
        "heic": (4, heic, {415}),
        "pixel_bomb": (5, pixel_bomb, {422}),
        "corrupt_jpeg": (5, corrupt_jpeg, {422, 503}),  # the header looks fine: only decoding finds out
        "multipart_no_boundary": (5, multipart_no_boundary, {400}),
        "multipart_garbage": (5, multipart_garbage, {400}),
        "garbage_request_line": (5, garbage_request_line, {400}),
        "bad_content_length": (4, bad_content_length, {400}),
        "no_content_length": (4, no_content_length, {411}),
        "huge_header": (4, huge_header, {400}),
        "bad_parameter": (10, bad_parameter, {400}),
        "wrong_method": (4, wrong_method, {405}),
        "slow_sender": (6, slow_sender, {408}),
        "slow_headers": (4, slow_headers, {408}),
    }
    names = list(kinds)
    weights = [kinds[n][0] for n in names]
    # Every kind at least once, the rest drawn by weight, in a shuffled order.
    order = names + rng.choices(names, weights=weights, k=count - len(names))
    rng.shuffle(order)
    return [(name, kinds[name][1], kinds[name][2]) for name in order]


def check_reply(kind, reply, expected):
    """The problems with one reply, as text (empty when right)."""
    if reply.error:
        return f"{kind}: no response ({reply.error})"
    if reply.status not in expected:
        return f"{kind}: status {reply.status}, expected {sorted(expected)}; body {reply.body[:200]!r}"
    if reply.status == 200:
        size = image_size(reply.body)
        if not size:
            return f"{kind}: 200 without a PNG or JPEG body"
        if max(size) > MAX_SIDE or min(size) < 8:
            return f"{kind}: picture is {size[0]}x{size[1]}, expected the longer side <= {MAX_SIDE}"
        return ""
    if not reply.headers.get("content-type", "").startswith("application/json") or not reply.json_error():
        return f"{kind}: status {reply.status} without a JSON error body: {reply.body[:200]!r}"
    if reply.status == 503 and not reply.headers.get("retry-after", "").isdigit():
        return f"{kind}: 503 without Retry-After"
    return ""


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def run_load(server, cases, clients):
    results = [None] * len(cases)
    next_case = [0]
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                i = next_case[0]
                next_case[0] += 1
            if i >= len(cases):
                return
            kind, fn, expected = cases[i]
            results[i] = (kind, fn(server.port), expected)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.monotonic() - start


def sigterm_in_flight(binary, models, photos, extra):
    """Fills the workers and the queue, sends SIGTERM, and checks that every accepted image comes back."""
    server = Server(binary, models, extra)
    problems = []
    try:
        photo = max(photos, key=len)
        in_flight = 4  # 2 workers + a queue of 2: all accepted
        replies = [None] * in_flight

        def send(i):
            replies[i] = exchange(server.port, post_head("/api/v1/stylize?size=320", len(photo), "image/jpeg"),
                                  [photo], timeout=120)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(in_flight)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        accepted = 0
        while time.monotonic() < deadline:
            health = get(server.port, "/healthz")
            if health.status == 200:
                h = json.loads(health.body)
                accepted = h["busy"] + h["queued"]
                if accepted >= in_flight:
                    break
            time.sleep(0.02)
        if accepted < in_flight:
            problems.append(f"sigterm: only {accepted} of {in_flight} images were accepted before SIGTERM")
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        late = exchange(server.port, post_head("/api/v1/stylize", len(photo), "image/jpeg"), [photo], timeout=10)
        if late.status == 200:
            problems.append("sigterm: a request sent after SIGTERM was served")
        for t in threads:
            t.join()
        for r in replies:
            if r.status != 200:
                problems.append(f"sigterm: an image in flight got {r.status or r.error} instead of its picture")
        try:
            code = server.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            code = "timeout"
        if code != 0:
            problems.append(f"sigterm: the server exited with {code}, expected 0")
        print(f"sigterm: {sum(r.status == 200 for r in replies)}/{in_flight} in-flight images completed, "
              f"late request: {late.status or late.error}, exit status {code}")
    finally:
        server.kill()
    return problems


def memory_limit(binary, models, photos):
    """--memory-limit: a picture that cannot fit even streaming is refused with 422 and says so; one whose full
    frame does not fit streams, and the server stays inside the limit."""
    problems = []
    photo = max(photos, key=len)
    for limit_mb, expected in ((40, 422), (150, 200)):
        server = Server(binary, models, ["--memory-limit", f"{limit_mb}M", "--threads", "2"])
        try:
            reply = exchange(server.port, post_head("/api/v1/stylize?size=0", len(photo), "image/jpeg"), [photo],
                             timeout=300)
            server.stop_watching()
            peak_mb = server.peak_rss_mb()
            print(f"--memory-limit {limit_mb}M, a {image_size(photo)} photo at full size: {reply.status}, "
                  f"peak RSS {peak_mb:.0f} MB {reply.json_error() if reply.status != 200 else ''}")
            if reply.status != expected:
                problems.append(f"--memory-limit {limit_mb}M: got {reply.status or reply.error}, expected {expected}")
            elif expected == 422 and "memory" not in (reply.json_error() or ""):
                problems.append(f"--memory-limit {limit_mb}M: the refusal does not name memory: {reply.json_error()}")
            if peak_mb > limit_mb:
                problems.append(f"--memory-limit {limit_mb}M: peak RSS {peak_mb:.0f} MB")
        finally:
            server.kill()
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--convert", required=True)
    parser.add_argument("--shared", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rss-limit-mb", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    tflite = os.path.join(args.shared, "models", "animeganv2_hayao_256x256_integer_quant.tflite")
    images = os.path.join(args.shared, "images")
    if not os.path.isfile(tflite):
        skip(f"{tflite} is absent (the ../shared folder holds the model this test converts)")
    photos = [open(os.path.join(images, n), "rb").read() for n in sorted(os.listdir(images))
              if n.startswith("portrait_") and n.endswith(".jpg")] if os.path.isdir(images) else []
    if not photos:
        skip(f"no portrait_*.jpg photos in {images}")
    models = os.path.join(args.work, "models")
    os.makedirs(models, exist_ok=True)
    subprocess.run([args.convert, tflite, "-o", os.path.join(models, "hayao.gguf")], check=True,
                   stdout=subprocess.DEVNULL)

    extra = ["--workers", "2", "--threads", "1", "--queue", "2", "--connections", "16",
             "--max-upload", str(MAX_UPLOAD_MB), "--max-side", str(MAX_SIDE), "--max-pixels", "400000",
             "--request-timeout", "3"]
    rng = random.Random(args.seed)
    cases = build_cases(photos, rng, args.requests)
    server = Server(args.server, models, extra)
    problems = []
    try:
        results, wall = run_load(server, cases, args.clients)
        by_kind = {}
        for kind, reply, expected in results:
            problem = check_reply(kind, reply, expected)
            if problem:
                problems.append(problem)
            by_kind.setdefault(kind, []).append(reply)
        if server.proc.poll() is not None:
            problems.append(f"the server died during the load (exit {server.proc.returncode})")
        after = exchange(server.port, post_head("/api/v1/stylize", len(photos[0]), "image/jpeg"), [photos[0]])
        if check_reply("after", after, {200}):
            problems.append("after the load the server did not stylize a photo: " + check_reply("after", after, {200}))
        # A phone photo stored sideways with EXIF orientation 6 comes back standing, as browsers show it.
        w, h = image_size(photos[0])
        turned_photo = with_exif_orientation(photos[0], 6)
        turned = exchange(server.port, post_head("/api/v1/stylize", len(turned_photo), "image/jpeg"), [turned_photo])
        got = image_size(turned.body) if turned.status == 200 else None
        scale = MAX_SIDE / max(w, h)
        if not got or abs(got[0] - h * scale) > 1 or abs(got[1] - w * scale) > 1:
            problems.append(f"EXIF orientation 6 on a {w}x{h} photo gave {got or turned.status}, expected about "
                            f"{h * scale:.0f}x{w * scale:.0f}")
        else:
            print(f"EXIF orientation 6: a {w}x{h} photo comes back {got[0]}x{got[1]}")
        metrics = get(server.port, "/metrics").body.decode()
        for needle in ("animegan_http_requests_total{", "animegan_queue_length ", "animegan_request_duration_seconds_bucket{"):
            if needle not in metrics:
                problems.append(f"/metrics lacks {needle}")
        server.stop_watching()
        peak_mb = server.peak_rss_mb()

        print(f"{len(results)} requests from {args.clients} clients in {wall:.1f} s")
        for kind in sorted(by_kind):
            replies = by_kind[kind]
            statuses = {}
            for r in replies:
                statuses[r.status or "none"] = statuses.get(r.status or "none", 0) + 1
            times = [r.seconds * 1000 for r in replies]
            print(f"  {kind:22s} n={len(replies):3d} statuses={statuses} p50={percentile(times, 50):.0f} ms "
                  f"p95={percentile(times, 95):.0f} ms")
        valid = [r for k, r, _ in results if k.startswith("valid")]
        pictures = [r.seconds * 1000 for r in valid if r.status == 200]
        every = [r.seconds * 1000 for _, r, _ in results]
        print(f"valid requests: {len(pictures)} pictures, {sum(r.status == 503 for r in valid)} x 503")
        print(f"latency of a picture: p50 {percentile(pictures, 50):.0f} ms, p95 {percentile(pictures, 95):.0f} ms")
        print(f"latency of every request: p50 {percentile(every, 50):.0f} ms, p95 {percentile(every, 95):.0f} ms")
        print(f"server peak RSS: {peak_mb:.0f} MB (limit {args.rss_limit_mb} MB)")
        if not pictures:
            problems.append("no valid request got its picture")
        if peak_mb > args.rss_limit_mb:
            problems.append(f"peak RSS {peak_mb:.0f} MB is over the {args.rss_limit_mb} MB limit")
    finally:
        server.stop_watching()
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGTERM)
            try:
                server.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.proc.kill()

    problems += sigterm_in_flight(args.server, models, photos, extra)
    problems += memory_limit(args.server, models, photos)
    for p in problems:
        print("FAIL " + p)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
