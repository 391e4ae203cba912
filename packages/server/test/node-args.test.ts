/** The shared command line: `--workers N` (else `CINDER_WORKERS`, else 1) and `--accept`; bad values are clear errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverArgs } from "../src/node/index.js";

test("--workers wins over CINDER_WORKERS, which wins over the default of 1", () => {
  assert.deepEqual(serverArgs(["--workers", "3"], { CINDER_WORKERS: "2" }), { workers: 3, accept: "primary" });
  assert.deepEqual(serverArgs(["--workers=4"], {}), { workers: 4, accept: "primary" });
  assert.deepEqual(serverArgs([], { CINDER_WORKERS: "2" }), { workers: 2, accept: "primary" });
  assert.deepEqual(serverArgs([], {}), { workers: 1, accept: "primary" });
});

test("a bad worker count or an unknown flag is refused with a message naming it", () => {
  assert.throws(() => serverArgs(["--workers", "0"], {}), /--workers must be a positive integer, got "0"/);
  assert.throws(() => serverArgs(["--workers", "2.5"], {}), /got "2.5"/);
  assert.throws(() => serverArgs([], { CINDER_WORKERS: "many" }), /got "many"/);
  assert.throws(() => serverArgs(["--wrokers", "2"], {}), /wrokers/);
});

test("a negative value after a flag is that flag's bad value (not parseArgs' \"ambiguous\"); an unknown flag lists the known ones", () => {
  assert.throws(() => serverArgs(["--workers", "-1"], {}), /^Error: --workers must be a positive integer, got "-1"$/);
  assert.throws(() => serverArgs(["--workers=-2"], {}), /got "-2"/);
  assert.throws(() => serverArgs(["--max-connections", "-1"], {}), /Unknown option '--max-connections'.*\(the options are: --workers N, --accept shared\|primary\)/);
});

test("--accept says who accepts the workers' connections: primary (default) or shared, flag over CINDER_ACCEPT; anything else is refused", () => {
  assert.equal(serverArgs(["--workers", "2", "--accept", "shared"], { CINDER_ACCEPT: "primary" }).accept, "shared");
  assert.equal(serverArgs([], { CINDER_ACCEPT: "shared" }).accept, "shared");
  assert.equal(serverArgs([], {}).accept, "primary");
  assert.throws(() => serverArgs(["--accept", "roundrobin"], {}), /^Error: --accept must be "shared" or "primary", got "roundrobin"$/);
});
