"""A real model behind the OpenAI chat-completions protocol, for trying `distill harvest` on a real server
(when neither llama.cpp's server nor `distill serve` is at hand). Not part of the product: a harness.

It loads a GGUF (default: the embedded SmolLM2-135M-Instruct Q4_1) with transformers, applies the model's own chat
template, and answers /v1/chat/completions one request at a time with real token counts in `usage`
(prompt = the templated prompt's tokens, completion = generated tokens), `finish_reason` (stop/length), and
per-token `logprobs` with `top_logprobs` when asked. Listens on 127.0.0.1 only.

Run: /work/venv/bin/python scripts/serve_transformers_teacher.py --port 8089

As a small real judge for `distill judge` end to end (write two generation files, then serve like a weak server):

    /work/venv/bin/python scripts/serve_transformers_teacher.py --port 8765 --write-generations /tmp/smol \
        --items 10 --reject-json-schema
    distill judge --judge http://127.0.0.1:8765/v1 --model smollm2 --inputs /tmp/smol/reference.jsonl \
        /tmp/smol/smollm2.jsonl --labels Reference SmolLM2 --out /tmp/smol/judge --concurrency 1 --max-tokens 96

`--write-generations DIR` first writes, from datasets/instructions.jsonl, `DIR/reference.jsonl` (the reference as
the output) and `DIR/smollm2.jsonl` (the model's own greedy answers). `--reject-json-schema` answers
response_format json_schema with HTTP 400 and accepts json_object without enforcing it, as many small servers do,
so distill's format negotiation and parse ladder meet a real, weak judge (a 135M judge is a stress test).
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

parser = argparse.ArgumentParser()
parser.add_argument("--dir", default="/root/.cache/distill/models")
parser.add_argument("--gguf", default="SmolLM2-135M-Instruct.Q4_1.gguf")
parser.add_argument("--port", type=int, default=8089)
parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
parser.add_argument("--write-generations", metavar="DIR",
                    help="first write DIR/reference.jsonl and DIR/smollm2.jsonl from datasets/instructions.jsonl")
parser.add_argument("--items", type=int, default=10, help="how many items --write-generations writes")
parser.add_argument("--reject-json-schema", action="store_true",
                    help="answer response_format json_schema with HTTP 400, like many small servers")
args = parser.parse_args()

if args.threads:
    torch.set_num_threads(args.threads)

tokenizer = AutoTokenizer.from_pretrained(args.dir, gguf_file=args.gguf)
model = AutoModelForCausalLM.from_pretrained(args.dir, gguf_file=args.gguf, dtype=torch.float32)
model.eval()
lock = threading.Lock()
im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
stop_ids = [i for i in {tokenizer.eos_token_id, im_end} if i is not None]


def complete(body):
    messages = [{"role": m["role"], "content": m["content"]} for m in body["messages"]]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
    max_tokens = int(body.get("max_tokens") or 256)
    temperature = float(body.get("temperature") if body.get("temperature") is not None else 1.0)
    top_k = int(body.get("top_logprobs") or 0)
    if body.get("seed") is not None:
        torch.manual_seed(int(body["seed"]))
    with lock, torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=max_tokens, do_sample=temperature > 0,
                             temperature=temperature if temperature > 0 else None,
                             top_p=body.get("top_p"), eos_token_id=stop_ids, pad_token_id=stop_ids[0],
                             output_scores=True, return_dict_in_generate=True)
    generated = out.sequences[0][len(ids):].tolist()
    finish = "length"
    if generated and generated[-1] in stop_ids:
        generated, finish = generated[:-1], "stop"
    choice = {"index": 0, "message": {"role": "assistant", "content": tokenizer.decode(generated)},
              "finish_reason": finish}
    if body.get("logprobs"):
        content = []
        for step, token in enumerate(generated):
            logp = torch.log_softmax(out.scores[step][0].float(), dim=-1)
            entry = {"token": tokenizer.decode([token]), "logprob": float(logp[token]),
                     "bytes": list(tokenizer.decode([token]).encode()), "top_logprobs": []}
            if top_k:
                values, indices = torch.topk(logp, top_k)
                entry["top_logprobs"] = [{"token": tokenizer.decode([int(i)]), "logprob": float(v),
                                          "bytes": list(tokenizer.decode([int(i)]).encode())}
                                         for v, i in zip(values, indices)]
            content.append(entry)
        choice["logprobs"] = {"content": content}
    return {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", args.gguf), "choices": [choice],
            "usage": {"prompt_tokens": len(ids), "completion_tokens": len(generated) + (finish == "stop"),
                      "total_tokens": len(ids) + len(generated) + (finish == "stop")}}


def write_generations(out_dir, count):
    """Two generation files for `distill judge`: the reference as the output, and the model's greedy answers."""
    os.makedirs(out_dir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "datasets", "instructions.jsonl"), encoding="utf-8") as f:
        items = [json.loads(line) for line in f][:count]
    with open(os.path.join(out_dir, "reference.jsonl"), "w", encoding="utf-8") as ref, \
            open(os.path.join(out_dir, "smollm2.jsonl"), "w", encoding="utf-8") as gen:
        for it in items:
            prompt = it["instruction"] + ("\n\n" + it["input"] if it.get("input") else "")
            reply = complete({"messages": [{"role": "user", "content": prompt}], "max_tokens": 80, "temperature": 0})
            answer = reply["choices"][0]["message"]["content"].strip()
            base = {"instruction": it["instruction"], "input": it.get("input", ""), "reference_output": it["output"]}
            ref.write(json.dumps({**base, "generate_output": it["output"]}, ensure_ascii=False) + "\n")
            gen.write(json.dumps({**base, "generate_output": answer}, ensure_ascii=False) + "\n")
    print("wrote generation files to", out_dir, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, obj):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, {"object": "list", "data": [{"id": args.gguf, "object": "model"}]})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        try:
            body = json.loads(self.rfile.read(length))
            if args.reject_json_schema and (body.get("response_format") or {}).get("type") == "json_schema":
                return self.reply(400, {"error": {"message": "response_format type json_schema is not supported",
                                                  "type": "invalid_request_error"}})
            self.reply(200, complete(body))
        except Exception as e:  # a harness: report, don't crash
            self.reply(400, {"error": {"message": str(e), "type": "invalid_request_error"}})

    def log_message(self, *a):
        pass


if args.write_generations:
    write_generations(args.write_generations, args.items)
print(f"serving {args.gguf} on http://127.0.0.1:{args.port}/v1", flush=True)
ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
