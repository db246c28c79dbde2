"""An OTLP/HTTP trace receiver with a slice of Jaeger's query API, for machines that cannot pull Jaeger.

POST /v1/traces (application/x-protobuf) on 4318 stores every span; /v1/metrics and /v1/logs are
accepted and dropped. GET /api/services and GET /api/traces/{id} on 16686 answer as Jaeger does
(the fields the compose test reads). The protobuf is decoded by hand: only the fields below are read.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

spans = []  # dicts: traceID, spanID, parentSpanID, operationName, serviceName
lock = threading.Lock()


def fields(data):
    """Yields (field number, wire type, value) of one protobuf message; value is bytes for wire type 2."""
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length, i = varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def varint(data, i):
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def service_name(resource):
    # Resource.attributes (1) -> KeyValue{key (1), value (2) -> AnyValue.string_value (1)}
    for number, _, attribute in fields(resource):
        if number != 1:
            continue
        parts = dict((n, v) for n, _, v in fields(attribute))
        if parts.get(1) == b"service.name":
            for n, _, v in fields(parts.get(2, b"")):
                if n == 1:
                    return v.decode()
    return "unknown"


def decode_traces(body):
    """ExportTraceServiceRequest: resource_spans (1) -> resource (1), scope_spans (2) -> spans (2)."""
    found = []
    for number, _, resource_spans in fields(body):
        if number != 1:
            continue
        parts = list(fields(resource_spans))
        service = next((service_name(v) for n, _, v in parts if n == 1), "unknown")
        for n, _, scope_spans in parts:
            if n != 2:
                continue
            for m, _, span in fields(scope_spans):
                if m != 2:
                    continue
                s = {n2: v2 for n2, _, v2 in fields(span)}
                found.append({
                    "traceID": s.get(1, b"").hex(), "spanID": s.get(2, b"").hex(),
                    "parentSpanID": s.get(4, b"").hex(), "operationName": s.get(5, b"").decode(),
                    "serviceName": service,
                })
    return found


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            try:
                received = decode_traces(body)
            except (ValueError, IndexError, UnicodeDecodeError) as error:
                print(f"undecodable trace export: {error}")
                return self.reply(400, b"", "application/x-protobuf")
            with lock:
                spans.extend(received)
            print(f"received {len(received)} spans")
        # An empty Export*ServiceResponse is a full success.
        self.reply(200, b"", "application/x-protobuf")

    def do_GET(self):
        with lock:
            known = list(spans)
        if self.path == "/api/services":
            return self.reply(200, json.dumps({"data": sorted({s["serviceName"] for s in known})}).encode())
        if self.path.startswith("/api/traces/"):
            trace = self.path.rsplit("/", 1)[1].lower()
            of_trace = [s for s in known if s["traceID"] == trace]
            if not of_trace:
                return self.reply(404, json.dumps({"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}).encode())
            processes = {f"p{i}": {"serviceName": name} for i, name in enumerate(sorted({s["serviceName"] for s in of_trace}), 1)}
            by_name = {p["serviceName"]: key for key, p in processes.items()}
            data = [{"traceID": trace, "processes": processes, "spans": [
                {"traceID": s["traceID"], "spanID": s["spanID"], "operationName": s["operationName"],
                 "processID": by_name[s["serviceName"]],
                 "references": [{"refType": "CHILD_OF", "traceID": trace, "spanID": s["parentSpanID"]}] if s["parentSpanID"] else []}
                for s in of_trace]}]
            return self.reply(200, json.dumps({"data": data}).encode())
        self.reply(404, b"{}")


for port in (4318, 16686):
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("OTLP/HTTP on 4318, query API on 16686")
threading.Event().wait()
