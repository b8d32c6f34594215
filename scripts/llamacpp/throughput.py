#!/usr/bin/env python3
"""`distill serve` beside llama.cpp's llama-server in one run: the same GGUF, the same 16 concurrent streaming clients,
the same prompts and max_tokens (scripts/serve_bench.py's openai-SDK load generator, greedy so both decode the same
number of tokens), then the ratio. Not run by CI (needs a llama.cpp build).

    scripts/llamacpp/throughput.sh [--clients 16] [--requests 3] [--max-tokens 64] [--model GGUF]

distill serve runs with --slots CLIENTS; llama-server with -np CLIENTS -c CLIENTS×1024 -t THREADS (continuous batching
is on by default there). Each server is started, warmed with one request, measured, and stopped before the next.
"""
import argparse, os, re, signal, socket, subprocess, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, proc, log):
    for _ in range(1200):
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200: return
        except Exception:
            if proc.poll() is not None: sys.exit(f"server exited; see {log}")
            time.sleep(0.5)
    sys.exit(f"server not healthy; see {log}")


def bench(name, cmd, port, model_name, a, work):
    log = os.path.join(work, f"{name}.log")
    with open(log, "w") as lf:
        proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log)
        load = [sys.executable, os.path.join(ROOT, "scripts", "serve_bench.py"), "--base-url", url + "/v1", "--model", model_name,
                "--clients", str(a.clients), "--requests", str(a.requests), "--max-tokens", str(a.max_tokens), "--greedy"]
        # one warm-up request (page cache, first allocations), then the measured run
        subprocess.run(load[:-7] + ["--clients", "1", "--requests", "1", "--max-tokens", "8", "--greedy"], check=True,
                       capture_output=True)
        out = subprocess.run(load, check=True, capture_output=True, text=True).stdout.strip()
        print(f"{name:13s} {out}", flush=True)
        m = re.search(r"= ([\d.]+) tok/s; TTFT p50 (\d+) ms, p99 (\d+) ms; (\d+) errors", out)
        return (float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))) if m else None
    finally:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(60)
        except subprocess.TimeoutExpired: proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=3, help="per client")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", default=os.environ.get("THREADS", "2"))
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/distill/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--precision", default=None, help="distill serve --precision (default: its own)")
    ap.add_argument("--work", default="/tmp/distill-llamacpp-throughput")
    a = ap.parse_args()
    distill = os.environ.get("DISTILL", os.path.join(ROOT, ".build", "release", "distill"))
    llama = os.path.join(os.environ.get("LLAMA_BIN", "/work/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin"), "llama-server")
    os.makedirs(a.work, exist_ok=True)
    print(f"model {os.path.basename(a.model)}; {a.clients} clients × {a.requests} streaming requests, max_tokens "
          f"{a.max_tokens}, greedy; {a.threads} threads; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    p1 = free_port()
    cmd1 = [distill, "serve", "--model", f"m={a.model}", "--port", str(p1), "--slots", str(a.clients),
            "--ctx", "1024", "--threads", a.threads]
    if a.precision: cmd1 += ["--precision", a.precision]
    ours = bench("distill serve", cmd1, p1, "m", a, a.work)
    p2 = free_port()
    cmd2 = [llama, "-m", a.model, "--port", str(p2), "-np", str(a.clients), "-c", str(a.clients * 1024), "-t", a.threads,
            "--jinja", "--no-webui", "-a", "m"]
    theirs = bench("llama-server", cmd2, p2, "m", a, a.work)
    if ours and theirs:
        print(f"ratio distill/llama.cpp: tokens/s {ours[0] / theirs[0]:.2f}×, TTFT p50 {ours[1] / max(theirs[1], 1):.2f}×, "
              f"p99 {ours[2] / max(theirs[2], 1):.2f}× (lower TTFT is better)")
    sys.exit(0 if ours and theirs and ours[3] == 0 and theirs[3] == 0 else 1)


main()
