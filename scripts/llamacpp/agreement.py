#!/usr/bin/env python3
"""Greedy text of `distill generate --exact` beside llama.cpp's llama-server (temperature 0) on the same GGUF files.

    scripts/llamacpp/agreement.sh [WORK_DIR]        (sets DISTILL and LLAMA_BIN, then runs this)

Cases: (a) the embedded SmolLM2-135M-Instruct Q4_1 and the same weights as F32 (`distill prune --keep-every 1`);
(b) merged GGUFs (F32, F16, Q8_0) from a short `distill train` LoRA run; (c) the base + that run's GGUF LoRA adapter
(`--export gguf-lora`) through llama-server's `--lora`, against `distill generate --adapter` (PEFT folder, merged
at load), on the F32 and the Q4_1 base. For each prompt: same text?, greedy tokens in common before the first
divergence (both texts tokenised by llama-server's /tokenize), and the prompt token counts of both (the chat template
must agree first). Prints a Markdown table (also written to WORK_DIR/agreement.md). Not run by CI.
"""
import json, os, shutil, signal, socket, subprocess, sys, time, urllib.request

DISTILL = os.environ.get("DISTILL", ".build/release/distill")
DISTILL_CONVERT = os.environ.get("DISTILL_CONVERT", DISTILL)  # the binary for `train --convert-adapter`
LLAMA_BIN = os.environ.get("LLAMA_BIN", "/work/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin")
WORK = sys.argv[1] if len(sys.argv) > 1 else "/tmp/distill-llamacpp-agreement"
BASE = os.path.expanduser("~/.cache/distill/models/SmolLM2-135M-Instruct.Q4_1.gguf")
MAX_TOKENS = int(os.environ.get("MAX_TOKENS", "48"))
THREADS = os.environ.get("THREADS", "2")
PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three prime numbers and explain why they are prime.",
    "请用一句话解释什么是知识蒸馏。",
    "Give me a short tip for writing clean code 🙂",
]


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class LlamaServer:
    """llama-server on one model (optionally with --lora), one slot, chat template from the GGUF (--jinja)."""

    def __init__(self, model, lora=None):
        self.port = free_port()
        cmd = [os.path.join(LLAMA_BIN, "llama-server"), "-m", model, "--port", str(self.port), "-t", THREADS,
               "-c", "2048", "-np", "1", "--jinja", "--no-webui"]
        if lora: cmd += ["--lora", lora]
        self.log = open(os.path.join(WORK, f"llama-server-{self.port}.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200: return
            except Exception:
                if self.proc.poll() is not None: raise RuntimeError(f"llama-server exited; see {self.log.name}")
                time.sleep(0.5)
        raise RuntimeError("llama-server did not become healthy")

    def chat(self, prompt):
        r = post(self.url + "/v1/chat/completions", {"messages": [{"role": "user", "content": prompt}],
                                                      "max_tokens": MAX_TOKENS, "temperature": 0, "seed": 0})
        return r["choices"][0]["message"]["content"] or "", r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"]

    def tokenize(self, text):
        return post(self.url + "/tokenize", {"content": text, "add_special": False})["tokens"]

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try: self.proc.wait(30)
        except subprocess.TimeoutExpired: self.proc.kill()
        self.log.close()


def distill_generate(model, adapter, tag):
    data = os.path.join(WORK, "prompts.jsonl")
    out = os.path.join(WORK, f"gen-{tag}.jsonl")
    for p in (out, out.replace(".jsonl", ".manifest.json")):
        if os.path.exists(p): os.remove(p)
    cmd = [DISTILL, "generate", "--exact", "--model", model, "--data", data, "--out", out, "--max-tokens", str(MAX_TOKENS),
           "--threads", THREADS, "--batch", "8"]
    if adapter: cmd += ["--adapter", adapter]
    run(cmd)
    rows = [json.loads(l) for l in open(out, encoding="utf-8")]
    by = {r["instruction"]: r["generate_output"] for r in rows}
    return [by[p] for p in PROMPTS]


def compare(case, model, lora, adapter_dir):
    ours = distill_generate(model, adapter_dir, case.replace(" ", "_").replace("+", "").replace("/", "-"))
    server = LlamaServer(model, lora)
    rows = []
    try:
        for p, mine in zip(PROMPTS, ours):
            theirs, prompt_tokens, n = server.chat(p)
            a, b = server.tokenize(mine), server.tokenize(theirs)
            common = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            same = mine.strip() == theirs.strip()
            rows.append({"case": case, "prompt": p, "same": same, "common": common, "ours": len(a), "theirs": len(b),
                         "prompt_tokens": prompt_tokens, "distill": mine, "llama.cpp": theirs})
    finally:
        server.close()
    return rows


def main():
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, "prompts.jsonl"), "w", encoding="utf-8") as f:
        for p in PROMPTS: f.write(json.dumps({"instruction": p}, ensure_ascii=False) + "\n")
    base_f32 = os.path.join(WORK, "base-f32.gguf")
    if not os.path.exists(base_f32):
        run([DISTILL, "prune", "--model", BASE, "--keep-every", "1", "--type", "f32", "--out", base_f32])
    train = os.path.join(WORK, "train")
    if not os.path.exists(os.path.join(train, "model-q8_0.gguf")):
        data = os.path.join(WORK, "train.jsonl")
        with open("datasets/demo-train.jsonl", encoding="utf-8") as src, open(data, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= 16: break
                dst.write(line)
        shutil.rmtree(train, ignore_errors=True)
        # A short, deliberately strong LoRA run (lr 1e-3, r 8 on all projections) so the adapter changes the text.
        run([DISTILL, "train", "--model", base_f32, "--data", data, "--out", train, "--epochs", "1", "--batch", "4",
             "--max-seq", "256", "--lora-r", "8", "--lora-alpha", "16", "--lr", "1e-3", "--lora-dropout", "0",
             "--val-split", "0", "--threads", THREADS,
             "--export", "peft", "gguf-f32", "gguf-f16", "gguf-q8_0"])
    if not os.path.exists(os.path.join(train, "adapter.gguf")):
        # The GGUF LoRA from the PEFT folder (the same writer as --export gguf-lora).
        run([DISTILL_CONVERT, "train", "--convert-adapter", os.path.join(train, "adapter"), "--model", base_f32])
    cases = [
        ("(a) Q4_1 (embedded)", BASE, None, None),
        ("(a) F32 base", base_f32, None, None),
        ("(b) merged F32", os.path.join(train, "model-f32.gguf"), None, None),
        ("(b) merged F16", os.path.join(train, "model-f16.gguf"), None, None),
        ("(b) merged Q8_0", os.path.join(train, "model-q8_0.gguf"), None, None),
        ("(c) F32 base + LoRA", base_f32, os.path.join(train, "adapter.gguf"), os.path.join(train, "adapter")),
        ("(c) Q4_1 base + LoRA", BASE, os.path.join(train, "adapter.gguf"), os.path.join(train, "adapter")),
    ]
    only = os.environ.get("CASES")
    rows = []
    for c in cases:
        if only and not any(k in c[0] for k in only.split(",")): continue
        got = compare(*c)
        rows += got
        print(f"{c[0]}: {sum(r['same'] for r in got)}/{len(got)} prompts with the same text", file=sys.stderr, flush=True)
    lines = ["| case | prompts with the same text | greedy tokens in common before the first divergence | where it diverges |",
             "|---|---|---|---|"]
    for case in dict.fromkeys(r["case"] for r in rows):
        rs = [r for r in rows if r["case"] == case]
        where = "; ".join(f"“{r['prompt'][:18]}…” at token {r['common']}" for r in rs if not r["same"]) or "—"
        lines.append(f"| {case} | {sum(r['same'] for r in rs)}/{len(rs)} | {sum(r['common'] for r in rs)}/"
                     f"{sum(max(r['ours'], r['theirs']) for r in rs)} | {where} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(WORK, "agreement.md"), "w", encoding="utf-8") as f: f.write(table + "\n")
    with open(os.path.join(WORK, "agreement.json"), "w", encoding="utf-8") as f: json.dump(rows, f, ensure_ascii=False, indent=1)
    for r in rows:
        if not r["same"]:
            print(f"\n{r['case']} · {r['prompt']!r} (prompt {r['prompt_tokens']} tokens)\n  distill:   {r['distill']!r}\n  llama.cpp: {r['llama.cpp']!r}")


main()
