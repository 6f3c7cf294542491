"""The upload and media pipeline: what happens to a file from upload to ``ready``.

An upload: uploads.py accepts the spooled file; sandbox.py probes it in a child process
with bounded memory and time (probe.py, which opens it through opening.py and checks what
it claims against limits.py); the original goes to GridFS and jobs.py queues it.
In the background, under a lease (lease.py), jobs.py runs steps.py in the sandbox: a
playable rendition (renditions.py) and a thumbnail (thumbnails.py); it stores both and
marks the video ``ready``.
"""
