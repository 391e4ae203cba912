/**
 * The logger interface Cinder writes to (pino-compatible: `logger.warn({ ...fields }, "msg")`),
 * and a small built-in JSON-lines logger used when none is given. Its level comes from the
 * `level` option, else `LOG_LEVEL`, else "info".
 */

/** Log levels, quietest last. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** A structured logger: fields first, message second (pino's calling convention). */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in RANK ? (value as LogLevel) : undefined;
}

/** Creates the built-in logger: one JSON object per line on stderr. */
export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  const level = options.level ?? parseLevel(process.env.LOG_LEVEL) ?? "info";
  const threshold = RANK[level];
  const write = (lvl: Exclude<LogLevel, "silent">) => (fields: Record<string, unknown>, message: string): void => {
    if (RANK[lvl] < threshold) return;
    const line: Record<string, unknown> = { level: lvl, time: Date.now(), name: options.name ?? "cinder", msg: message };
    for (const [key, value] of Object.entries(fields)) {
      line[key] = value instanceof Error ? { message: value.message, stack: value.stack } : value;
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ level: lvl, time: line.time, name: line.name, msg: message });
    }
    process.stderr.write(text + "\n");
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
