#!/usr/bin/env python3
"""Test HTTP receiver for the exporters' HTTP sinks (HEC, _bulk, Loki push, webhook).

Logs every request as one JSON line (method, path, headers, body decoded from
gzip) to --log *before* answering, so a test reads back exactly what arrived.
In --mode bulk it behaves like Elasticsearch's _bulk for what the tests need:
per-item statuses, `create` with an _id already stored answers 409, documents
containing "reject-me" get 400, "retry-me" gets 429 the first time. Stored ids
are reloaded from --log at start, so a restarted receiver remembers them.
--fail-first N answers --fail-status (503) to the first N requests, with a
Retry-After header when --retry-after is given. --max-events K answers 413 to
a request of more than K lines. In --mode hec-ack it is Splunk HEC with indexer
acknowledgement: event requests need an X-Splunk-Request-Channel header (400
otherwise, as Splunk does), each gets an ackId (per channel, from 0), and
POST /services/collector/ack?channel=C {"acks":[id,...]} answers
{"acks":{"id":bool}}: an ack turns true at its second poll, except for the first
--ack-lose ackIds, which never do (an indexer that lost the batch). Every
request is logged with its arrival time. --tls requires client certs.
"""
import argparse
import gzip
import http.server
import json
import os
import ssl
import sys
import time
import urllib.parse

args = None
state = {"requests": 0, "ids": set(), "retried": set(), "acks": {}, "polls": {}, "next_ack": {}}


def reload_ids():
    if not os.path.exists(args.log):
        return
    with open(args.log) as f:
        for line in f:
            try:
                req = json.loads(line)
            except ValueError:
                continue
            for iid in req.get("stored_ids", []):
                state["ids"].add(iid)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, body, extra_headers=()):
        data = body.encode()
        self.send_response(code)
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self):
        self.reply(200, "{}")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        body = raw
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(raw)
        entry = {
            "method": "POST",
            "path": self.path,
            "time": time.time(),
            "headers": {k: v for k, v in self.headers.items()},
            "raw_size": len(raw),
            "body": body.decode("utf-8", "replace"),
        }
        code, resp, extra = 200, '{"text":"Success","code":0}', []
        text = body.decode()
        if self.path.startswith("/services/collector/ack"):
            code, resp = self.ack_query(text)
            entry["acked"] = [int(k) for k, v in json.loads(resp).get("acks", {}).items() if v]
        else:
            state["requests"] += 1
            if state["requests"] <= args.fail_first:
                code = args.fail_status
                resp = '{"text":"Server is busy","code":9}' if code >= 500 or code == 429 else \
                    '{"text":"Invalid data format","code":6,"invalid-event-number":0}'
                if args.retry_after:
                    extra.append(("Retry-After", args.retry_after))
                if 300 <= code < 400:
                    extra.append(("Location", "http://127.0.0.1:9/moved"))
            elif args.max_events and len([l for l in text.split("\n") if l]) > args.max_events:
                code, resp = 413, '{"text":"Content too large","code":27}'
            elif args.mode == "bulk":
                code, resp, stored = self.bulk(text)
                entry["stored_ids"] = stored
            elif args.mode == "hec-ack":
                code, resp, ack_id = self.hec_event()
                if ack_id is not None:
                    entry["ack_id"] = ack_id
        entry["status"] = code
        with open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.reply(code, resp, extra)

    def channel(self):
        ch = self.headers.get("X-Splunk-Request-Channel")
        if not ch:
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            ch = q.get("channel", [None])[0]
        return ch

    def hec_event(self):
        ch = self.channel()
        if not ch:
            return 400, '{"text":"Data channel is missing","code":10}', None
        ack_id = state["next_ack"].get(ch, 0)
        state["next_ack"][ch] = ack_id + 1
        state["acks"][(ch, ack_id)] = False
        return 200, json.dumps({"text": "Success", "code": 0, "ackId": ack_id}), ack_id

    def ack_query(self, text):
        ch = self.channel()
        if not ch:
            return 400, '{"text":"Data channel is missing","code":10}'
        out = {}
        for ack_id in json.loads(text).get("acks", []):
            key = (ch, ack_id)
            polls = state["polls"].get(key, 0) + 1
            state["polls"][key] = polls
            if key in state["acks"] and polls >= 2 and ack_id >= args.ack_lose:
                state["acks"][key] = True
            out[str(ack_id)] = state["acks"].get(key, False)
        return 200, json.dumps({"acks": out})

    def bulk(self, body):
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        items, stored, errors = [], [], False
        for i in range(0, len(lines) - 1, 2):
            action = json.loads(lines[i])
            op = list(action.keys())[0]
            iid = action[op].get("_id")
            doc = lines[i + 1]
            json.loads(doc)  # must be JSON
            if "reject-me" in doc:
                items.append({op: {"status": 400, "error": {"type": "mapper_parsing_exception"}}})
                errors = True
            elif "retry-me" in doc and iid not in state["retried"]:
                state["retried"].add(iid)
                items.append({op: {"status": 429, "error": {"type": "es_rejected_execution_exception"}}})
                errors = True
            elif op == "create" and iid in state["ids"]:
                items.append({op: {"status": 409, "error": {"type": "version_conflict_engine_exception"}}})
                errors = True
            else:
                state["ids"].add(iid)
                stored.append(iid)
                items.append({op: {"_id": iid, "status": 201}})
        return 200, json.dumps({"took": 1, "errors": errors, "items": items}), stored


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", default="plain", choices=["plain", "bulk", "hec-ack"])
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--retry-after")
    p.add_argument("--max-events", type=int, default=0)
    p.add_argument("--ack-lose", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-client-ca")
    args = p.parse_args()
    reload_ids()
    srv = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.tls_client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
