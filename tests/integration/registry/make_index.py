#!/usr/bin/env python3
"""Makes a two-platform image index in a plain-HTTP registry, for kiln's tests.

Usage: make_index.py REGISTRY REPO TAG NEW_TAG
Takes the linux/amd64 image REPO:TAG, stores a twin whose config says linux/arm64 (same layers), and puts an OCI
index of both under NEW_TAG. Prints the arm64 twin's manifest digest.
"""
import hashlib, json, sys, urllib.request

registry, repo, tag, new_tag = sys.argv[1:5]
base = f"http://{registry}/v2/{repo}"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req) as r:
        return r.read()


def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"{base}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(req) as r:
        location = r.headers["Location"]
    sep = "&" if "?" in location else "?"
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    urllib.request.urlopen(urllib.request.Request(f"{location}{sep}digest={digest}", data=data, method="PUT",
                                                  headers={"Content-Type": "application/octet-stream"}))
    return digest


def put_manifest(reference, data, media_type):
    req = urllib.request.Request(f"{base}/manifests/{reference}", data=data, method="PUT",
                                 headers={"Content-Type": media_type})
    urllib.request.urlopen(req)
    return "sha256:" + hashlib.sha256(data).hexdigest()


amd64_bytes = get(f"{base}/manifests/{tag}", MANIFEST)
amd64 = json.loads(amd64_bytes)
config = json.loads(get(f"{base}/blobs/{amd64['config']['digest']}"))
config["architecture"] = "arm64"
config["variant"] = "v8"
config_bytes = json.dumps(config, separators=(",", ":")).encode()
arm64 = dict(amd64)
arm64["config"] = {"mediaType": amd64["config"]["mediaType"], "digest": put_blob(config_bytes), "size": len(config_bytes)}
arm64_bytes = json.dumps(arm64, separators=(",", ":")).encode()
arm64_digest = put_manifest("sha256:" + hashlib.sha256(arm64_bytes).hexdigest(), arm64_bytes, MANIFEST)
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": MANIFEST, "digest": "sha256:" + hashlib.sha256(amd64_bytes).hexdigest(), "size": len(amd64_bytes),
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": MANIFEST, "digest": arm64_digest, "size": len(arm64_bytes),
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
]}
put_manifest(new_tag, json.dumps(index).encode(), "application/vnd.oci.image.index.v1+json")
print(arm64_digest)
