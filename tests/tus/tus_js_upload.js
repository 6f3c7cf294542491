// tus-js-client (from npm, .tools/tusjs) uploading a file under Node: what test_tus_js.py runs.
// argv: endpoint, access token, file, chunk size, and the upload URL to resume (or "").
// Prints one JSON line: {"url", "status": "done"} or {"url", "status": "error", "code"}.
// With an upload URL it does not retry, so a refusal (409) is reported as it comes.
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, token, file, chunkSize, uploadUrl] = process.argv.slice(2);
const data = fs.readFileSync(file);
// Cut connections are retried: HEAD for the offset, then PATCH from there (409 while the
// server is still closing the cut PATCH is retried too).
const retryDelays = uploadUrl ? null : Array(40).fill(50);

const upload = new tus.Upload(data, {
  endpoint,
  uploadUrl: uploadUrl || null,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { title: "Sent by tus-js-client", filename: "clip.mp4", filetype: "video/mp4" },
  chunkSize: Number(chunkSize),
  retryDelays,
  storeFingerprintForResuming: false,
  onError(error) {
    const response = error.originalResponse;
    const code = response ? response.getStatus() : null;
    console.log(JSON.stringify({ url: upload.url, status: "error", code, message: String(error) }));
    process.exit(0);
  },
  onSuccess() {
    console.log(JSON.stringify({ url: upload.url, status: "done" }));
  },
});
upload.start();
