/**
 * Reading an input file (a scenario, a replay), the one way every command does it: only a regular
 * file, never more than a limit. A path is data a user (or a file someone sent) names: it may be a
 * link to /dev/zero, a FIFO that never ends, or a file far larger than any input. So the file is
 * opened without blocking (opening a FIFO otherwise waits for a writer), checked with fstat on the
 * open descriptor (a stat of the path could name another file by the time it is opened), and read
 * with the limit checked before and while reading (a file that grows stops at the limit).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Why an input file cannot be read, in a few words (`no such file or directory`, `not a regular file (a FIFO)`). */
export class InputFileError extends Error {
  override name = 'InputFileError';
}

/** Node's file-system error codes in words: the one table every message about a path uses. */
const FS_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'it already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'device or resource busy',
};

/** A file-system error's code and its words (`ENOENT`, `no such file or directory`); null for any other error. */
export function fsWords(error: unknown): { readonly code: string; readonly words: string } | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(FS_WORDS, code)) return null;
  return { code, words: FS_WORDS[code]! };
}

/** A short reason for a file-system error: `no such file or directory` rather than a code dump. */
export function fsReason(error: unknown): string {
  return fsWords(error)?.words ?? (error instanceof Error ? error.message : String(error));
}

/** What a path that is not a regular file is, in a few words (`a FIFO`, `a character device`). */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them; an InputFileError (its
 * message the reason, without the path) for anything else.
 */
export function readInputFile(path: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new InputFileError(fsReason(error));
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new InputFileError(`not a regular file (${kindOf(stats)})`);
    if (stats.size > maxBytes)
      throw new InputFileError(`${stats.size} bytes, over the limit of ${maxBytes}`);
    // One byte more than the size: a file that grew since fstat is seen to, up to the limit.
    let buf = new Uint8Array(Math.min(stats.size + 1, maxBytes + 1));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes)
          throw new InputFileError(
            `more than ${maxBytes} bytes, over the limit (the file grows as it is read)`,
          );
        const bigger = new Uint8Array(Math.min(buf.length * 2, maxBytes + 1));
        bigger.set(buf);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw new InputFileError(fsReason(error));
  } finally {
    closeSync(fd);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as UTF-8 text, a leading byte-order mark kept; null when they are not valid UTF-8 (see
 * `invalidUtf8Offset` for where).
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The offset of the first byte that does not belong to a valid UTF-8 sequence, or -1 when all do
 * (as the WHATWG decoder judges: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}
