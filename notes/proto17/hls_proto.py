"""Prototype: from ladder_proto.py's output, encrypt segments ourselves (AES-128-CBC, PKCS7,
random IV per segment), measure each rendition, and serve per-request playlists with the token
in the query of every URI, over a local HTTP server (127.0.0.1) that checks the token.

usage: python hls_proto.py LADDER_DIR serve PORT     (serves until killed, after writing meta)
       python hls_proto.py LADDER_DIR meta           (encrypt + ladder.json + print playlists)
"""

import json
import math
import os
import re
import sys
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import av
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "tok-" + "x" * 300  # stands for a ~300-char JWT
KEY = os.urandom(16)


def encrypt(data, key, iv):
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def sps_codec(ts_path):
    """avc1.PPCCLL from the first SPS NAL in the first video packet (true profile/level)."""
    with av.open(str(ts_path)) as c:
        for packet in c.demux(c.streams.video[0]):
            data = bytes(packet)
            for m in re.finditer(b"\x00\x00\x01", data):
                nal = data[m.end():]
                if nal and nal[0] & 0x1F == 7:
                    return "avc1.%02x%02x%02x" % (nal[1], nal[2], nal[3])
    raise ValueError("no SPS")


def durations(ts_paths, rate):
    """Segment durations from video frame counts (CFR): exact, no rounding drift."""
    out = []
    for p in ts_paths:
        with av.open(str(p)) as c:
            n = sum(1 for pk in c.demux(c.streams.video[0]) if pk.size)
        out.append(n / rate)
    return out


def build(ladder_dir):
    ladder_dir = Path(ladder_dir)
    renditions = []
    for d in sorted((p for p in ladder_dir.iterdir() if p.is_dir()), key=lambda p: -int(p.name)):
        segs = sorted(d.glob("seg_*.ts"))
        with av.open(str(segs[0])) as c:
            v = c.streams.video[0]
            width, height = v.codec_context.width, v.codec_context.height
            rate = Fraction(30)  # the encoder's rate, known at encode time; fixed here
        durs = durations(segs, float(rate))
        seg_meta = []
        for i, (p, dur) in enumerate(zip(segs, durs)):
            iv = os.urandom(16)
            data = encrypt(p.read_bytes(), KEY, iv)
            p.with_suffix(".enc").write_bytes(data)
            seg_meta.append({"n": i, "duration": round(dur, 6), "size": len(data), "iv": iv.hex()})
        total = sum(s["size"] for s in seg_meta)
        dur_total = sum(s["duration"] for s in seg_meta)
        # Peak: the largest per-segment bit rate (RFC 8216 4.3.4.2); last short segment kept too.
        peak = max(math.ceil(s["size"] * 8 / s["duration"]) for s in seg_meta)
        renditions.append({
            "height": height, "width": width, "dir": d.name,
            "codecs": f"{sps_codec(segs[0])},mp4a.40.2",
            "frame_rate": float(rate),
            "bandwidth": peak, "average_bandwidth": math.ceil(total * 8 / dur_total),
            "segments": seg_meta,
        })
    meta = {"key": KEY.hex(), "renditions": renditions}
    (ladder_dir / "ladder.json").write_text(json.dumps(meta, indent=1))
    return meta


def master(meta, token):
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in meta["renditions"]:
        lines.append(
            f'#EXT-X-STREAM-INF:BANDWIDTH={r["bandwidth"]},AVERAGE-BANDWIDTH={r["average_bandwidth"]},'
            f'RESOLUTION={r["width"]}x{r["height"]},CODECS="{r["codecs"]}",FRAME-RATE={r["frame_rate"]:.3f}'
        )
        lines.append(f'{r["dir"]}/index.m3u8?token={token}')
    return "\n".join(lines) + "\n"


def media(meta, rendition, token):
    r = next(x for x in meta["renditions"] if x["dir"] == rendition)
    target = max(round(s["duration"]) for s in r["segments"])  # RFC 8216 4.3.3.1: rounded
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for s in r["segments"]:
        lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="../key?token={token}",IV=0x{s["iv"]}')
        lines.append(f'#EXTINF:{s["duration"]:.6f},')
        lines.append(f'{s["n"]:05d}.ts?token={token}')
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def serve(ladder_dir, port):
    ladder_dir = Path(ladder_dir)
    meta = json.loads((ladder_dir / "ladder.json").read_text())
    key = bytes.fromhex(meta["key"])

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _send(self, code, body, ctype):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urlparse(self.path)
            tok = parse_qs(u.query).get("token", [None])[0]
            if tok != TOKEN:
                return self._send(401, b"no token", "text/plain")
            parts = u.path.strip("/").split("/")  # hls/master.m3u8 | hls/<h>/index.m3u8 | hls/<h>/N.ts | hls/key
            mt = "application/vnd.apple.mpegurl"
            if parts == ["hls", "master.m3u8"]:
                return self._send(200, master(meta, tok).encode(), mt)
            if parts == ["hls", "key"]:
                return self._send(200, key, "application/octet-stream")
            if len(parts) == 3 and parts[2] == "index.m3u8":
                return self._send(200, media(meta, parts[1], tok).encode(), mt)
            if len(parts) == 3 and parts[2].endswith(".ts"):
                n = int(parts[2][:-3])
                p = ladder_dir / parts[1] / f"seg_{n:05d}.enc"
                return self._send(200, p.read_bytes(), "video/mp2t")
            return self._send(404, b"", "text/plain")

    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


if __name__ == "__main__":
    d, cmd = sys.argv[1], sys.argv[2]
    if cmd == "meta":
        m = build(d)
        print(master(m, "T"))
        print(media(m, m["renditions"][-1]["dir"], "T"))
        print(json.dumps({k: v for k, v in m["renditions"][0].items() if k != "segments"}))
    else:
        serve(d, int(sys.argv[3]))
