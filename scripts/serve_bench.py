#!/usr/bin/env python3
"""Throughput of an OpenAI-compatible server under concurrent clients: total generated tokens/s and time to first
token (p50/p99), each client streaming chat requests back to back (the openai SDK, include_usage for the counts).

    /work/venv/bin/python scripts/serve_bench.py --base-url http://127.0.0.1:8080/v1 --model smollm2-135m
"""
import argparse, statistics, threading, time

from openai import OpenAI


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=3, help="per client")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--api-key", default="none")
    ap.add_argument("--json-schema", action="store_true", help="constrain every answer to a small JSON schema")
    ap.add_argument("--greedy", action="store_true", help="temperature 0 (two servers then decode the same tokens)")
    args = ap.parse_args()
    client = OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=600)
    fmt = None
    if args.json_schema:
        fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {
            "type": "object", "required": ["answer", "confidence"], "additionalProperties": False,
            "properties": {"answer": {"type": "string", "maxLength": 200},
                           "confidence": {"type": "integer", "minimum": 1, "maximum": 10}}}}}
    ttft, tokens, errors = [], [], []
    lock = threading.Lock()

    def worker(i):
        for j in range(args.requests):
            start = time.perf_counter()
            first = None
            used = 0
            try:
                kwargs = {"response_format": fmt} if fmt else {}
                stream = client.chat.completions.create(
                    model=args.model, max_tokens=args.max_tokens, temperature=0 if args.greedy else 0.7, seed=i * 100 + j, stream=True,
                    stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": f"Question {i}.{j}: tell me a fact about the number {i * 7 + j}."}],
                    **kwargs)
                for chunk in stream:
                    if first is None and any(c.delta.content for c in chunk.choices):
                        first = time.perf_counter() - start
                    if chunk.usage:
                        used = chunk.usage.completion_tokens
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(e)[:80])
                continue
            with lock:
                if first is not None:
                    ttft.append(first)
                tokens.append(used)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttft.sort()
    p = lambda q: ttft[min(len(ttft) - 1, int(q * len(ttft)))] if ttft else float("nan")
    print(f"{args.clients} clients × {args.requests} requests, max_tokens {args.max_tokens}"
          f"{' (json_schema)' if fmt else ''}: {sum(tokens)} tokens in {wall:.1f} s = {sum(tokens) / wall:.1f} tok/s; "
          f"TTFT p50 {p(0.5) * 1000:.0f} ms, p99 {p(0.99) * 1000:.0f} ms; {len(errors)} errors")
    if errors:
        print("errors:", errors[:3])


if __name__ == "__main__":
    main()
