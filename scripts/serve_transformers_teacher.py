"""A real model behind the OpenAI chat-completions protocol, for trying `distill harvest` on a real server
(when neither llama.cpp's server nor `distill serve` is at hand). Not part of the product: a harness.

It loads a GGUF (default: the embedded SmolLM2-135M-Instruct Q4_1) with transformers, applies the model's own chat
template, and answers /v1/chat/completions one request at a time with real token counts in `usage`
(prompt = the templated prompt's tokens, completion = generated tokens), `finish_reason` (stop/length), and
per-token `logprobs` with `top_logprobs` when asked. Listens on 127.0.0.1 only.

Run: /work/venv/bin/python scripts/serve_transformers_teacher.py --port 8089
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

parser = argparse.ArgumentParser()
parser.add_argument("--dir", default="/root/.cache/distill/models")
parser.add_argument("--gguf", default="SmolLM2-135M-Instruct.Q4_1.gguf")
parser.add_argument("--port", type=int, default=8089)
args = parser.parse_args()

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
            self.reply(200, complete(body))
        except Exception as e:  # a harness: report, don't crash
            self.reply(400, {"error": {"message": str(e), "type": "invalid_request_error"}})

    def log_message(self, *a):
        pass


print(f"serving {args.gguf} on http://127.0.0.1:{args.port}/v1", flush=True)
ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
