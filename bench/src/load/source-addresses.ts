/**
 * Which loopback source address a load process's connection binds. A client socket bound to
 * an address with port 0 makes Linux search that address's ephemeral ports for a free one at
 * bind time, and that search grows with the ports already taken there: on this machine the
 * 4,001st to 8,000th connections from one address took 4.2 s (9.6× the first 4,000), against
 * 0.44 s when spread over 16 addresses. So a load process spreads its connections over
 * `ADDRESSES_PER_PROCESS` addresses of its own, `127.1.<process>.1` and up, round-robin by
 * connection index (a reconnect binds the same address), keeping each at ~600 or fewer.
 */

/** Source addresses each load process uses. */
export const ADDRESSES_PER_PROCESS = 32;

/** The source address of connection `index` (any integer, e.g. its global index) of load process `process` (0–254). */
export function sourceAddress(process: number, index: number): string {
  if (!Number.isInteger(process) || process < 0 || process > 254) throw new RangeError(`load process index must be 0–254, got ${process}`);
  return `127.1.${process}.${1 + (index % ADDRESSES_PER_PROCESS)}`;
}

/** How a load process's addresses read in a log line. */
export function addressRange(process: number): string {
  return `127.1.${process}.1-${ADDRESSES_PER_PROCESS}`;
}
