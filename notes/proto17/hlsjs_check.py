"""hls.js in headless Chromium (selenium + Debian chromium/chromedriver): play, seek, level
chosen, with and without a CDP bandwidth cap. usage: hlsjs_check.py MASTER_URL"""
import json, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

url = sys.argv[1]

def run(cap_kbps=None, config=None):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
              "--allow-file-access-from-files"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        if cap_kbps:
            d.execute_cdp_cmd("Network.enable", {})
            d.execute_cdp_cmd("Network.emulateNetworkConditions", {
                "offline": False, "latency": 20,
                "downloadThroughput": cap_kbps * 1000 / 8, "uploadThroughput": cap_kbps * 1000 / 8})
        d.get("file:///work/proto17/page/player.html")
        d.execute_script("startPlayer(arguments[0], arguments[1])", url, config or {})
        t0 = time.time()
        while time.time() - t0 < 40:
            s = d.execute_script("const v=document.getElementById('v');return [v.currentTime, v.readyState, v.videoHeight]")
            if s[0] > 2.0:
                break
            time.sleep(0.3)
        played = d.execute_script("return document.getElementById('v').currentTime")
        # seek into the second segment and check it plays on from there
        d.execute_script("document.getElementById('v').currentTime = 7.0")
        t0 = time.time()
        while time.time() - t0 < 30:
            ct = d.execute_script("return document.getElementById('v').currentTime")
            if ct > 7.5:
                break
            time.sleep(0.3)
        r = d.execute_script("return Object.assign({}, window.report, {currentLevel: hls.currentLevel, height: document.getElementById('v').videoHeight, t: document.getElementById('v').currentTime, bw: hls.bandwidthEstimate})")
        r["played_before_seek"] = played
        return r
    finally:
        d.quit()

for name, cap, cfg in (("uncapped", None, {"abrEwmaDefaultEstimate": 20_000_000}),
                       ("capped 700 kbps", 700, {"abrEwmaDefaultEstimate": 20_000_000})):
    t = time.time()
    print(name, round(time.time() - t, 1), json.dumps(run(cap, cfg)))
