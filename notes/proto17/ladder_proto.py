"""Prototype: one decode pass -> N H.264 renditions (aligned 6 s GOPs) + AAC, segmented by
FFmpeg's 'hls' muxer (one output container per rendition, all in one process), then each
segment encrypted by us (AES-128-CBC, PKCS7, random IV per segment).

usage: python ladder_proto.py SRC OUTDIR HEIGHTS(e.g. 1080,720,480) [preset] [crf]
Prints timing, RSS/VmPeak, and writes OUTDIR/<h>/seg_XXXXX.ts (+ .enc), OUTDIR/<h>/ffmpeg.m3u8,
OUTDIR/ladder.json (what would be stored in MongoDB per rendition).
"""

import json
import math
import os
import resource
import sys
import time
from fractions import Fraction
from pathlib import Path

import av

SEGMENT_SECONDS = 6
# capped CRF: (maxrate kbit/s) per height; bufsize = 2 x maxrate
MAXRATE = {1080: 5000, 720: 2800, 480: 1400, 360: 800, 240: 400}
AUDIO_RATE = 48000
PER_HEIGHT = {int(k): v for k, v in (x.split(":") for x in os.environ.get("PRESETS", "").split(",") if x)}
INTERP = os.environ.get("INTERP", "BICUBIC")


def vm(name):
    for line in open("/proc/self/status"):
        if line.startswith(name):
            return int(line.split()[1]) // 1024
    return 0


def even(n):
    return max(2, int(n) // 2 * 2)


def main():
    src_path, outdir = sys.argv[1], Path(sys.argv[2])
    heights = [int(h) for h in sys.argv[3].split(",")]
    preset = sys.argv[4] if len(sys.argv) > 4 else "veryfast"
    crf = sys.argv[5] if len(sys.argv) > 5 else "23"
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    src = av.open(src_path)
    vin = src.streams.video[0]
    ain = src.streams.audio[0] if src.streams.audio else None
    vin.thread_type = "AUTO"
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    gop = max(1, round(SEGMENT_SECONDS * rate))  # frames per segment, same in every rendition
    sw, sh = vin.codec_context.width, vin.codec_context.height
    outs = []
    first_audio = None
    for h in heights:
        d = outdir / str(h)
        d.mkdir(exist_ok=True)
        out = av.open(
            str(d / "ffmpeg.m3u8"),
            "w",
            format="hls",
            options={
                "hls_time": str(SEGMENT_SECONDS),
                "hls_list_size": "0",
                "hls_playlist_type": "vod",
                "hls_segment_type": "mpegts",
                "hls_segment_filename": str(d / "seg_%05d.ts"),
                "hls_flags": "independent_segments",
            },
        )
        vs = out.add_stream("libx264", rate=rate)
        vs.width = even(sw * h / sh)
        vs.height = even(h)
        vs.pix_fmt = "yuv420p"
        if os.environ.get("X264_THREADS"):
            vs.codec_context.thread_count = int(os.environ["X264_THREADS"])
        m = MAXRATE[h]
        vs.options = {
            "preset": PER_HEIGHT.get(h, preset),
            "crf": crf,
            "maxrate": f"{m}k",
            "bufsize": f"{2 * m}k",
            "forced-idr": "1",
            **({"threads": os.environ["X264_THREADS"]} if os.environ.get("X264_THREADS") else {}),
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0" + os.environ.get(f"X264_EXTRA_{h}", ""),
            "profile": "high",
        }
        if ain is not None:
            if first_audio is None:
                a = out.add_stream("aac", rate=AUDIO_RATE)
                a.layout = "stereo"
                a.bit_rate = 128000
                first_audio = a
            else:
                # shared audio: same packets muxed into every rendition (needs encoder opened)
                a = None
        else:
            a = None
        outs.append({"h": h, "out": out, "v": vs, "a": a, "dir": d, "frames": 0})
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    # open the first container's audio encoder, then make template streams in the others
    audio_clones = []
    if first_audio is not None:
        outs[0]["out"].start_encoding()  # opens the encoders and fills codecpar (extradata)
        for o in outs[1:]:
            o["a"] = o["out"].add_stream_from_template(first_audio)
    t_open = time.monotonic()
    frames_in = samples = 0
    dec_time = scale_time = enc_time = 0.0
    it = src.decode(*[s for s in (vin, ain) if s is not None])
    while True:
        ts = time.monotonic()
        try:
            frame = next(it)
        except StopIteration:
            break
        dec_time += time.monotonic() - ts
        if isinstance(frame, av.VideoFrame):
            idx = frames_in
            frames_in += 1
            for o in outs:
                ts = time.monotonic()
                f = frame.reformat(width=o["v"].width, height=o["v"].height, format="yuv420p",
                                   interpolation=INTERP if o["h"] != sh else None)
                scale_time += time.monotonic() - ts
                f.pts, f.time_base = idx, 1 / Fraction(rate)
                f.pict_type = av.video.frame.PictureType.I if idx % gop == 0 else av.video.frame.PictureType.NONE
                ts = time.monotonic()
                o["out"].mux(o["v"].encode(f))
                enc_time += time.monotonic() - ts
            continue
        frame.pts = None
        for r in resampler.resample(frame):
            r.pts, r.time_base = samples, Fraction(1, AUDIO_RATE)
            samples += r.samples
            for p in first_audio.encode(r):
                mux_audio(outs, p)
    for o in outs:
        o["out"].mux(o["v"].encode())
    if first_audio is not None:
        for p in first_audio.encode():
            mux_audio(outs, p)
    for o in outs:
        o["out"].close()
    t_end = time.monotonic()
    src.close()
    dur = frames_in / float(rate)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "heights": heights, "preset": preset, "crf": crf, "frames": frames_in,
        "duration": round(dur, 3), "wall": round(t_end - t0, 2),
        "x_realtime": round((t_end - t0) / dur, 3),
        "cpu_user_sys": round(ru.ru_utime + ru.ru_stime, 2),
        "decode_s": round(dec_time, 2), "scale_s": round(scale_time, 2), "encode_mux_s": round(enc_time, 2),
        "maxrss_mb": ru.ru_maxrss // 1024, "vmpeak_mb": vm("VmPeak"), "vmhwm_mb": vm("VmHWM"),
    }))


def mux_audio(outs, packet):
    data = bytes(packet)
    for o in outs:
        p = av.Packet(data)
        p.pts, p.dts, p.duration = packet.pts, packet.dts, packet.duration
        p.time_base = packet.time_base
        p.stream = o["a"]
        o["out"].mux(p)


if __name__ == "__main__":
    main()
