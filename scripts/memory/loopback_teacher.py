#!/usr/bin/env python3
"""A loopback OpenAI-compatible teacher for memory and throughput measurements of `distill harvest`.

Answers every POST /v1/chat/completions at once with a short fixed reply (Chinese and an emoji) and a usage block;
nothing is sampled, so a run's cost is the harvester's own. Standard library only.

    python3 scripts/memory/loopback_teacher.py --port 8765 &
    distill harvest --recipe answer --data big.jsonl --teacher http://127.0.0.1:8765/v1 --model loopback
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "这是回环教师的回答：模型蒸馏把大模型的知识转移到小模型。🙂"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "loopback", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        request = json.loads(raw)
        prompt_tokens = len(raw) // 4
        self.send_json(200, {
            "id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
            "model": request.get("model", "loopback"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 24, "total_tokens": prompt_tokens + 24},
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
