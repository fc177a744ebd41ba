// The page of animegan2-server in a real browser: headless Chromium driven by puppeteer-core.
//
// Starts the server on a free port of 127.0.0.1, opens the page, checks that the styles load, uploads a
// photo from ../shared/images through the file picker with the "Small (512 px)" size, waits for the result,
// checks its size, moves the before/after slider, downloads the result and checks the file, checks that a
// damaged upload is explained in plain words and that the page fits a phone's width, and saves screenshots
// under the work directory. Run by run_browser_test.sh, which installs puppeteer-core and converts the model.
//
//   node browser_test.mjs --server BIN --models DIR --shared DIR --work DIR --node-modules DIR --chromium BIN
//                         [--photo FILE] [--docs-screenshot FILE.jpg]
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

function parseArgs() {
  const args = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const key of ["server", "models", "shared", "work", "node-modules", "chromium"]) {
    if (!args[key]) throw new Error(`--${key} is required`);
  }
  return args;
}

const args = parseArgs();
const puppeteer = createRequire(path.join(args["node-modules"], "package.json"))("puppeteer-core");
const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
  console.log(`${condition ? "ok  " : "FAIL"} ${message}`);
}

// The size a PNG says it has.
function pngSize(bytes) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// The size a JPEG's frame header gives.
function jpegSize(bytes) {
  let i = 2;
  while (i + 9 < bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
    }
    i += 2 + length;
  }
  return null;
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(args.server, ["--models", args.models, "--port", "0", "--workers", "1", "--quiet"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (data) => {
      out += data;
      const match = out.match(/listening on (http:\/\/[^\s]+)/);
      if (match) resolve({ child, url: match[1] });
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

async function waitForFile(dir, name, timeoutMs) {
  const file = path.join(dir, name);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fs.existsSync(file) && !fs.existsSync(file + ".crdownload")) return file;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

const photo = args.photo || ["hd/path_2560x1600.jpg", "scene_car.jpg", "portrait_01.jpg"]
  .map((name) => path.join(args.shared, "images", name))
  .find((file) => fs.existsSync(file));
if (!photo) {
  console.log("SKIPPED: no photo in " + path.join(args.shared, "images"));
  process.exit(77);
}
const photoSize = jpegSize(fs.readFileSync(photo));
const downloads = path.join(args.work, "downloads");
const profile = path.join(args.work, "chromium-profile");
fs.rmSync(downloads, { recursive: true, force: true });
fs.rmSync(profile, { recursive: true, force: true });
fs.mkdirSync(downloads, { recursive: true });

const { child: server, url } = await startServer();
let browser;
try {
  browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    userDataDir: profile,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => failures.push("page error: " + e.message));
  await page.setViewport({ width: 1000, height: 900 });
  await page.goto(url, { waitUntil: "networkidle0" });

  // The styles come from /api/v1/models.
  await page.waitForFunction(() => document.querySelector("#style option[value='hayao']"), { timeout: 10000 });
  check(await page.$eval("#style", (s) => s.selectedOptions[0].textContent === "Hayao"), "style chooser shows the model's style name (Hayao)");
  check(await page.$eval("#size", (s) => [...s.options].map((o) => o.value).join(",")) === "512,1024,1536,0", "size choice offers 512, 1024, 1536 and the original size");

  // Upload through the file picker, at the small size.
  await page.select("#size", "512");
  const started = Date.now();
  const input = await page.$("#file");
  await input.uploadFile(photo);
  await page.waitForFunction(() => document.querySelector("#progress-wrap").classList.contains("active"), { timeout: 10000 });
  check(true, "progress shows while the photo is processed");
  await page.waitForFunction(
    () => document.querySelector("#result.shown") && document.querySelector("#after-img").naturalWidth > 0 ||
      document.querySelector("#error.shown"),
    { timeout: 120000 });
  const error = await page.$eval("#error", (e) => (e.classList.contains("shown") ? e.textContent : ""));
  check(!error, "no error after the upload" + (error ? `: ${error}` : ""));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const result = await page.$eval("#after-img", (img) => ({ width: img.naturalWidth, height: img.naturalHeight }));
  const expected = photoSize.width >= photoSize.height
    ? { width: 512, height: Math.round((photoSize.height * 512) / photoSize.width) }
    : { width: Math.round((photoSize.width * 512) / photoSize.height), height: 512 };
  check(result.width === expected.width && result.height === expected.height,
    `result is ${result.width}x${result.height} (expected ${expected.width}x${expected.height} for a ${photoSize.width}x${photoSize.height} photo at 512 px), in ${seconds} s`);
  check(/Done/.test(await page.$eval("#status", (s) => s.textContent)), "progress says done");

  // The before/after slider moves the split.
  await page.$eval("#slider", (s) => { s.value = 30; s.dispatchEvent(new Event("input")); });
  check((await page.$eval("#after-img", (img) => img.style.clipPath)).includes("30%"), "the before/after slider moves the split");
  await page.$eval("#slider", (s) => { s.value = 50; s.dispatchEvent(new Event("input")); });

  // Download: the browser saves the file the page offers.
  const session = await browser.target().createCDPSession();
  await session.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  const name = await page.$eval("#download", (a) => a.download);
  await page.click("#download");
  const file = await waitForFile(downloads, name, 20000);
  check(!!file, `download saved ${name}`);
  if (file) {
    const size = pngSize(fs.readFileSync(file));
    check(size && size.width === expected.width && size.height === expected.height,
      `downloaded PNG is ${size ? `${size.width}x${size.height}` : "not a PNG"}`);
  }

  fs.mkdirSync(args.work, { recursive: true });
  await page.screenshot({ path: path.join(args.work, "page.png"), fullPage: true });
  if (args["docs-screenshot"]) {
    const box = await page.$eval("main", (m) => {
      const r = m.getBoundingClientRect();
      return { x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height };
    });
    await page.screenshot({ path: args["docs-screenshot"], type: "jpeg", quality: 82, clip: box, captureBeyondViewport: true });
  }

  // The face pass, where the models directory has a face detector: a group photo, each face redrawn.
  const group = path.join(args.shared, "images", "group_three.jpg");
  if (!(await page.$eval("#face", (f) => f.disabled)) && fs.existsSync(group)) {
    await page.click("#face");
    await input.uploadFile(group);
    await page.waitForFunction(() => /redrawn/.test(document.querySelector("#result-info").textContent) ||
      document.querySelector("#error.shown"), { timeout: 120000 });
    const info = await page.$eval("#result-info", (e) => e.textContent);
    const faces = Number((info.match(/(\d+) faces? redrawn/) || [])[1] || 0);
    check(faces >= 1, `the face pass redraws the faces of group_three.jpg: "${info}"`);
    await page.click("#face");
  } else {
    console.log("skip face pass: no face detector in the models directory or no group_three.jpg");
  }

  // A damaged upload is explained in plain words, from the server's JSON error.
  const damaged = path.join(args.work, "damaged.jpg");
  fs.writeFileSync(damaged, Buffer.from("this is not really a photo, only text with a .jpg name"));
  await input.uploadFile(damaged);
  await page.waitForFunction(() => document.querySelector("#error.shown"), { timeout: 20000 });
  const message = await page.$eval("#error", (e) => e.textContent);
  check(/not a picture/.test(message), `a damaged upload shows a plain error: "${message}"`);

  // Readable on a phone: nothing wider than the screen.
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.reload({ waitUntil: "networkidle0" });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a 390 px wide phone nothing overflows (${overflow} px)`);
  await page.screenshot({ path: path.join(args.work, "page-phone.png"), fullPage: true });

  // No CDN: every request went to the server itself (or a blob:/data: URL).
  const outside = requests.filter((u) => !u.startsWith(url) && !u.startsWith("blob:") && !u.startsWith("data:"));
  check(outside.length === 0, "the page loads nothing from elsewhere" + (outside.length ? `: ${outside}` : ""));
  console.log(`screenshots: ${path.join(args.work, "page.png")}, ${path.join(args.work, "page-phone.png")}`);
} catch (e) {
  failures.push(String(e && e.stack || e));
  console.log("FAIL " + e);
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  const code = server.exitCode !== null ? server.exitCode
    : await new Promise((resolve) => server.on("exit", (c) => resolve(c)));
  check(code === 0, `server exits 0 on SIGTERM (${code})`);
}
console.log(`${failures.length ? 0 : 1} passed, ${failures.length ? 1 : 0} failed`);
process.exit(failures.length ? 1 : 0);
