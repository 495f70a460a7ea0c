// Runner for the SDK conformance suite.
//
// 1. builds `latch` from the current tree (go build ./cmd/latch) into a temp dir,
// 2. starts `latch serve` on a free loopback port with an empty data dir,
// 3. waits for /healthz (trusting the generated CA; bounded retries),
// 4. creates the extra projects the tests need with `latch projects create`,
// 5. writes a JSON fixture (base URL, CA path, credentials) to a temp file,
// 6. runs `node --test` on test/*.test.mjs in a child process with
//    NODE_EXTRA_CA_CERTS set (the SDK's fetch and jose's JWKS fetch need it),
// 7. SIGTERMs the server and checks it exits 0.
//
// Exit code: the child's, or 1 if the server failed to start or stop cleanly.
// LATCH_BIN=/path/to/latch skips the build and tests that binary instead.
// Extra arguments are passed to `node --test`: files replace the default list
// (`npm test -- test/users.test.mjs`), flags are added
// (`npm test -- --test-name-pattern=PKCE`).

import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const keepTmp = process.env.LATCH_SDKTEST_KEEP === "1";

function log(msg) {
  process.stderr.write(`[sdktest] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}\n${stdout}${stderr}`));
    });
  });
}

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

function getHealthz(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(base, dataDir, server) {
  const caPath = path.join(dataDir, "tls", "ca.pem");
  let lastErr = "not started";
  for (let attempt = 0; attempt < 150; attempt++) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`latch serve exited early (${server.exitCode ?? server.signalCode})`);
    }
    try {
      const ca = fs.readFileSync(caPath);
      const res = await getHealthz(`${base}/healthz`, ca);
      if (res.status === 200 && fs.existsSync(path.join(dataDir, "credentials.json"))) return caPath;
      lastErr = `healthz ${res.status}: ${res.body}`;
    } catch (e) {
      lastErr = e.message;
    }
    await delay(Math.min(20 * 2 ** attempt, 200)); // back-off between polls, ~30 s cap in total
  }
  throw new Error(`latch serve not ready: ${lastErr}`);
}

async function createProject(bin, dataDir, name, vertical, environment) {
  const args = ["projects", "create", "--data-dir", dataDir, "--name", name, "--vertical", vertical, "--json"];
  if (environment) args.push("--environment", environment);
  const { stdout } = await run(bin, args, { timeoutMs: 30_000 });
  return JSON.parse(stdout);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "latch-sdktest-"));
  const bin = process.env.LATCH_BIN ? path.resolve(process.env.LATCH_BIN) : path.join(tmp, "latch");
  const dataDir = path.join(tmp, "data");
  const serverLogPath = path.join(tmp, "server.log");
  let server;
  let exitCode = 1;
  let serverLog;

  // Returns [exit code or signal, whether it had already exited before SIGTERM].
  const stopServer = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return [server.exitCode ?? server.signalCode, true];
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 15_000);
    const [code, signal] = await once(server, "exit");
    clearTimeout(timer);
    return [code ?? signal, false];
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      if (server && server.exitCode === null) server.kill("SIGTERM");
      process.exit(130);
    });
  }

  try {
    let t0 = Date.now();
    if (process.env.LATCH_BIN) log(`using prebuilt ${bin} (LATCH_BIN)`);
    else {
      await run("go", ["build", "-o", bin, "./cmd/latch"], { cwd: repoRoot, timeoutMs: 300_000 });
      log(`built latch from ${repoRoot} in ${Date.now() - t0} ms`);
    }

    const port = await freePort();
    const base = `https://127.0.0.1:${port}`;
    serverLog = fs.openSync(serverLogPath, "w");
    t0 = Date.now();
    server = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`], {
      stdio: ["ignore", serverLog, serverLog],
    });
    const caPath = await waitReady(base, dataDir, server);
    log(`latch serve ready at ${base} in ${Date.now() - t0} ms`);

    const dev = JSON.parse(fs.readFileSync(path.join(dataDir, "credentials.json"), "utf8"));
    const [other, live, limited] = await Promise.all([
      createProject(bin, dataDir, "SDK test project B", "consumer"),
      createProject(bin, dataDir, "SDK test live project", "consumer", "live"),
      createProject(bin, dataDir, "SDK test rate limits", "consumer"),
    ]);
    // The server runs with its default rate limits. The suite reuses a few
    // identifiers (the sandbox values) far more often than a person would,
    // so its projects lift them, as an app's CI would with the same
    // command; the "limited" project keeps tight ones for rate_limits.test.
    const unlimited = JSON.stringify({
      send: { per_project: null, per_identifier: null },
      authenticate: { per_project: null, per_identifier: null },
      create: { per_project: null, per_identifier: null },
      ip: { per_identifier: null },
    });
    const tight = JSON.stringify({ send: { per_identifier: { limit: 3, period: "1h" } } });
    for (const [p, overrides] of [[dev, unlimited], [other, unlimited], [live, unlimited], [limited, tight]]) {
      await run(bin, ["projects", "update", "--data-dir", dataDir, "--project", p.project_id, "--rate-limits", overrides], { timeoutMs: 30_000 });
    }
    const fixturePath = path.join(tmp, "fixture.json");
    fs.writeFileSync(
      fixturePath,
      JSON.stringify({ base_url: base, ca_file: caPath, data_dir: dataDir, latch_bin: bin, projects: { main: dev, other, live, limited } }, null, 2),
    );

    // Extra arguments: test files and/or node --test flags (--test-name-pattern=...).
    const extra = process.argv.slice(2);
    const flags = extra.filter((a) => a.startsWith("-"));
    let files = extra.filter((a) => !a.startsWith("-"));
    if (!files.length) {
      files = fs
        .readdirSync(path.join(here, "test"))
        .filter((f) => f.endsWith(".test.mjs"))
        .sort()
        .map((f) => path.join("test", f));
    }
    const child = spawn(process.execPath, ["--test", ...flags, ...files], {
      cwd: here,
      stdio: "inherit",
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath, LATCH_SDKTEST_FIXTURE: fixturePath },
    });
    const deadlineMs = Number(process.env.LATCH_SDKTEST_TIMEOUT_MS || 180_000);
    const deadline = setTimeout(() => {
      log(`node --test still running after ${deadlineMs} ms (a hung test or an open socket): killing it`);
      child.kill("SIGKILL");
    }, deadlineMs);
    const [code, signal] = await once(child, "exit");
    clearTimeout(deadline);
    exitCode = code ?? 1;
    if (signal) log(`node --test killed by ${signal}`);
  } catch (e) {
    log(e.stack || String(e));
    exitCode = 1;
  } finally {
    if (server) {
      const [stopped, early] = await stopServer();
      if (early) {
        log(`latch serve had already exited (${stopped}) before SIGTERM`);
        exitCode = exitCode || 1;
      } else if (stopped === 0) log("latch serve stopped cleanly on SIGTERM (exit 0)");
      else {
        log(`latch serve did not exit 0 on SIGTERM: ${stopped}`);
        exitCode = exitCode || 1;
      }
    }
    if (serverLog !== undefined) fs.closeSync(serverLog);
    if (exitCode !== 0 && fs.existsSync(serverLogPath)) {
      const text = fs.readFileSync(serverLogPath, "utf8");
      log(`server log (last 60 lines) from ${serverLogPath}:\n${text.split("\n").slice(-60).join("\n")}`);
    }
    if (!keepTmp && exitCode === 0) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }
  process.exit(exitCode);
}

main();
