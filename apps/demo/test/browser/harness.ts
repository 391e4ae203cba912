/**
 * The browser tests' harness: the apps server in-process (SQLite in a temporary folder) and
 * Debian's headless Chromium driven by playwright-core, one browser context per user (each
 * with its own cookies). Every wait is bounded. When /usr/bin/chromium is missing the tests
 * skip with a message, unless CINDER_REQUIRE_SERVICES=1 (then they fail).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { createLogger } from "@cinder/server";
import { createApp, type App } from "../../src/app.js";
import type { Config } from "../../src/config.js";

/** The Chromium binary (`CINDER_CHROMIUM` overrides it, e.g. to check the skip path). */
export const CHROMIUM = process.env.CINDER_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const requireServices = process.env.CINDER_REQUIRE_SERVICES === "1";

/** `screenshots/` at the repository root (dist/test/browser/ → five levels up). */
export const SCREENSHOTS = fileURLToPath(new URL("../../../../../screenshots/", import.meta.url));

/** The password every test user gets. */
export const PASSWORD = "correct horse battery";

/** True when Chromium is missing and the test was skipped (fails instead under CINDER_REQUIRE_SERVICES=1). */
export function skipWithoutChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return false;
  const missing = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (requireServices) assert.fail(`${missing}, and CINDER_REQUIRE_SERVICES=1 requires the browser tests`);
  t.skip(`${missing}: skipping the browser tests`);
  return true;
}

/** A signed-in (or not yet) user: their browser context and page, and what went wrong in it. */
export interface User {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors (must stay empty). */
  errors: string[];
  /** Console errors (reported on failure). */
  console: string[];
  /** The user's session token (from the HttpOnly cookie), once signed in. */
  token(): Promise<string>;
  /** The user id (from the page), once signed in. */
  id(): Promise<number>;
  /** Opens another page (tab) in the same context. */
  newTab(): Promise<Page>;
}

/** How a user's browser context is set up. */
export interface UserOptions {
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
}

/** The server and the browser of one test file. */
export interface Harness {
  app: App;
  url: string;
  browser: Browser;
  /** Opens a fresh context (its own cookies) on the sign-in page. */
  newUser(name: string, options?: UserOptions): Promise<User>;
  /** Opens a context and signs up `name` through the UI (the bootstrapped `admin` signs in); ends on the home page. */
  signUp(name: string): Promise<User>;
  /** Saves a screenshot of `page` as `screenshots/<name>.png`. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Stops the server and starts it again on the same port and data (pages reconnect on their own); `whileDown` runs in between. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Asserts no page threw, across every context. */
  assertNoPageErrors(): void;
  close(): Promise<void>;
}

/** Rejects after `ms` with a message saying what was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns a truthy value (returned), at most `ms`. */
export async function eventually<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until `locator`'s text matches `expected`; returns the text. */
export async function textOf(locator: Locator, expected: string | RegExp, ms = 15_000): Promise<string> {
  return eventually(async () => {
    const text = (await locator.textContent({ timeout: 500 })) ?? "";
    return (typeof expected === "string" ? text.includes(expected) : expected.test(text)) ? text : undefined;
  }, ms, `text ${String(expected)} in ${locator.toString()}`);
}

/** Waits until `locator` matches exactly `count` elements. */
export async function countOf(locator: Locator, count: number, ms = 15_000): Promise<void> {
  await eventually(async () => (await locator.count()) === count, ms, `${count} × ${locator.toString()}`);
}

/** Starts the apps server (with `settings` over the test defaults) and Chromium. */
export async function startHarness(settings: Partial<Config> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "cinder-browser-"));
  const start = async (port: number): Promise<App> => {
    const started = await createApp({
      port, host: "127.0.0.1", dataDir, databaseUrl: undefined, secretKeyBase: "x".repeat(40),
      admins: new Set(["admin"]), adminPassword: PASSWORD, redisUrl: undefined, ...settings,
    }, { logger: createLogger({ level: "warn", name: "apps" }) });
    await new Promise<void>((resolve) => started.server.listen(port, "127.0.0.1", resolve));
    return started;
  };
  let app = await start(0);
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let browser: Browser;
  try {
    browser = await within(chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 20_000 }), 25_000, "Chromium to start");
  } catch (error) {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const users: User[] = [];

  const newUser = async (name: string, options: UserOptions = {}): Promise<User> => {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? "light",
      locale: "en-GB", timezoneId: "Europe/Paris",
    });
    // Deadlines, not speed checks: with three test files at a time on 2 cores (CI), a page load
    // that takes ~200 ms alone once took over 10 s, so they are generous; a passing step costs
    // no more for it.
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(30_000);
    const errors: string[] = [];
    const consoleErrors: string[] = [];
    const watch = (page: Page): void => {
      page.on("pageerror", (error) => errors.push(`${name}: ${error.message}`));
      page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(`${name}: ${message.text()}`); });
    };
    context.on("page", watch);
    const page = await context.newPage();
    await page.goto(`${url}/`);
    const user: User = {
      name, context, page, errors, console: consoleErrors,
      token: async () => {
        // The session token lives in the HttpOnly cookie (the page's script only sees a socket token).
        const cookie = (await context.cookies(url)).find((c) => c.name === "cinder_token");
        assert.ok(cookie !== undefined && cookie.value !== "", `${name} is signed in`);
        return decodeURIComponent(cookie.value);
      },
      id: async () => {
        const id = await page.evaluate<unknown>("window.currentUser?.id");
        assert.ok(typeof id === "number", `${name} is signed in`);
        return id;
      },
      newTab: async () => context.newPage(),
    };
    users.push(user);
    return user;
  };

  const harness: Harness = {
    app, url, browser, newUser,
    async signUp(name) {
      const user = await newUser(name);
      const { page } = user;
      // `admin` is bootstrapped from ADMIN_PASSWORD (nobody can sign up as it): it signs in instead.
      if (name !== "admin") await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("Username").fill(name);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.locator("#auth-submit").click();
      await page.waitForURL(`${url}/`);
      await textOf(page.locator("header .me"), name);
      return user;
    },
    async screenshot(page, name) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, timeout: 10_000, animations: "disabled" });
      // CI keeps these in its log: the folder and each file saved into it.
      console.log(`# screenshot saved: ${path} (${statSync(path).size} bytes)`);
      return path;
    },
    async restart(whileDown) {
      await app.close();
      await whileDown?.();
      app = await start(port);
      harness.app = app;
    },
    assertNoPageErrors() {
      const errors = users.flatMap((u) => u.errors);
      assert.deepEqual(errors, [], `page errors (console: ${users.flatMap((u) => u.console).join(" | ") || "none"})`);
    },
    async close() {
      await within(browser.close(), 10_000, "Chromium to close").catch(() => undefined);
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

