/**
 * Redis Cluster's hash slot of a key or shard channel: CRC16 (XMODEM) of its hash tag (the
 * text between the first `{` and the next `}`, when not empty) or of the whole name, modulo
 * 16384. Used to group channels, since one SSUBSCRIBE may only name channels of one slot.
 */

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** The number of hash slots of a Redis Cluster. */
export const SLOTS = 16384;

/** The hash slot of `name` (a key or a shard channel). */
export function hashSlot(name: string): number {
  let bytes = Buffer.from(name, "utf8");
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % SLOTS;
}
