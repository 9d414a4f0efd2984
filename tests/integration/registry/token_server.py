#!/usr/bin/env python3
"""A Bearer token service for docker-registry's token auth, for kiln's tests (loopback only).

Usage: token_server.py PORT_FILE KEY_PEM USER PASSWORD LOG
Anonymous callers get pull access, USER:PASSWORD gets pull and push; a wrong password gets 401. Tokens are JWTs
(RS256, signed with `openssl dgst`) whose "kid" is the libtrust key id docker-registry derives from the certificate
in its rootcertbundle. Every request's scopes and whether it carried credentials are appended to LOG.
"""
import base64, hashlib, http.server, json, subprocess, sys, time, urllib.parse, uuid

port_file, key_pem, user, password, log_path = sys.argv[1:6]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid():
    der = subprocess.run(["openssl", "pkey", "-in", key_pem, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


KID = libtrust_kid()


def sign(claims):
    header = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": KID}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_pem], input=f"{header}.{body}".encode(),
                               check=True, capture_output=True).stdout
    return f"{header}.{body}.{b64url(signature)}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        who = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                self.send_response(401)
                self.end_headers()
                return
            who = u
        allowed = {"pull", "push"} if who else {"pull"}
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",") if a in allowed]
            access.append({"type": kind, "name": name, "actions": granted})
        with open(log_path, "a") as log:
            log.write(json.dumps({"user": who, "scopes": query.get("scope", []), "service": query.get("service")}) + "\n")
        now = int(time.time())
        token = sign({"iss": "kiln-test-issuer", "sub": who or "", "aud": query.get("service", [""])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access})
        data = json.dumps({"token": token, "expires_in": 300, "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
