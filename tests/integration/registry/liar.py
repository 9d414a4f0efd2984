#!/usr/bin/env python3
"""A registry that lies, for kiln's tests (loopback only).

  liar.py image DIR KIND [N]   writes an image (manifest and blobs) to DIR: KIND "hello" (one file), "zeros" (a
                               gzip bomb: one file of N zero bytes), or "files" (N empty files).
  liar.py serve PORT_FILE LOG DIR [--basic USER:PASS] [--redirect-blobs] [--realm URL]
                               serves DIR's image as 127.0.0.1:PORT/lib/app:1. --basic asks for Basic credentials;
                               --redirect-blobs answers blob GETs with a 307 to a storage server on another port;
                               --realm answers everything with a Bearer challenge naming URL. Every request, with
                               whether it carried an Authorization header, is appended to LOG as JSON.
"""
import base64, gzip, hashlib, http.server, io, json, os, sys, tarfile, threading

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def write_image(root, kind, n):
    os.makedirs(os.path.join(root, "blobs"), exist_ok=True)

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(os.path.join(root, "blobs", digest[7:]), "wb") as f:
            f.write(data)
        return digest

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        if kind == "hello":
            info = tarfile.TarInfo("hello")
            info.size = 6
            t.addfile(info, io.BytesIO(b"hello\n"))
        elif kind == "zeros":
            class Zeros(io.RawIOBase):
                def __init__(self, left): self.left = left
                def readable(self): return True
                def readinto(self, b):
                    k = min(len(b), self.left); b[:k] = bytes(k); self.left -= k; return k
            info = tarfile.TarInfo("zeros")
            info.size = n
            t.addfile(info, io.BufferedReader(Zeros(n), 1 << 20))
        elif kind == "files":
            for i in range(n):
                t.addfile(tarfile.TarInfo("f%d" % i))
    tar = raw.getvalue()
    layer = gzip.compress(tar, compresslevel=9, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(layer), "size": len(layer)}]}).encode()
    with open(os.path.join(root, "manifest.json"), "wb") as f:
        f.write(manifest)


def serve(port_file, log_path, root, args):
    basic = args[args.index("--basic") + 1] if "--basic" in args else None
    realm = args[args.index("--realm") + 1] if "--realm" in args else None
    redirect = "--redirect-blobs" in args
    manifest = open(os.path.join(root, "manifest.json"), "rb").read()
    lock = threading.Lock()

    def log(server, handler):
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"server": server, "path": handler.path,
                                "authorization": handler.headers.get("Authorization")}) + "\n")

    def blob(handler, hexdigest):
        path = os.path.join(root, "blobs", os.path.basename(hexdigest))
        if not os.path.exists(path):
            handler.send_response(404); handler.send_header("Content-Length", "0"); handler.end_headers(); return
        data = open(path, "rb").read()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    class Storage(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            log("storage", self)
            blob(self, self.path.rsplit("/", 1)[-1])

    storage = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    threading.Thread(target=storage.serve_forever, daemon=True).start()

    class Registry(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            log("registry", self)
            if realm:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="%s",service="liar"' % realm)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if basic and self.headers.get("Authorization") != "Basic " + base64.b64encode(basic.encode()).decode():
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="liar"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/v2/":
                self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
            elif self.path.startswith("/v2/lib/app/manifests/"):
                self.send_response(200)
                self.send_header("Content-Type", MANIFEST)
                self.send_header("Content-Length", str(len(manifest)))
                self.end_headers()
                self.wfile.write(manifest)
            elif self.path.startswith("/v2/lib/app/blobs/sha256:"):
                hexdigest = self.path.rsplit(":", 1)[-1]
                if redirect:
                    self.send_response(307)
                    self.send_header("Location", "http://127.0.0.1:%d/storage/%s" % (storage.server_address[1], hexdigest))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    blob(self, hexdigest)
            else:
                self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
        do_HEAD = do_GET

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "image":
        write_image(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        serve(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
