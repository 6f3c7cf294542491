import time, av, sys
src = av.open(sys.argv[1]); v = src.streams.video[0]; v.thread_type="AUTO"
frames = []
t=time.process_time()
for i, f in enumerate(src.decode(v)):
    frames.append(f)
    if i == 89: break
print("decode 90 frames cpu", round(time.process_time()-t,2))
for interp in ["FAST_BILINEAR","BILINEAR","BICUBIC","AREA"]:
    t=time.process_time()
    for f in frames:
        f.reformat(width=1280,height=720,format="yuv420p",interpolation=interp)
        f.reformat(width=854,height=480,format="yuv420p",interpolation=interp)
    print(interp, "cpu per frame (720+480) ms", round((time.process_time()-t)/len(frames)*1000,2))
t=time.process_time()
for f in frames:
    a=f.reformat(width=1280,height=720,format="yuv420p",interpolation="BICUBIC")
    a.reformat(width=854,height=480,format="yuv420p",interpolation="BICUBIC")
print("cascade BICUBIC ms", round((time.process_time()-t)/len(frames)*1000,2))
