import { describe, expect, it } from 'vitest';
import { fsCause } from '../../../cli/errors.js';
import { fsReason, fsWords } from '../../../scenarios/spec/input-file.js';

const fsError = (code: string) => Object.assign(new Error(`${code}: raw message`), { code });

describe('file-system errors in words', () => {
  it('fsReason (scenarios, replays) and fsCause (cli) word each code the same way: EPERM and ENOTDIR once differed', () => {
    for (const code of ['ENOENT', 'EPERM', 'EACCES', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENOSPC']) {
      const words = fsWords(fsError(code))!.words;
      expect(fsReason(fsError(code))).toBe(words);
      expect(fsCause(fsError(code))).toBe(`${words} (${code})`);
    }
    expect(fsReason(fsError('EPERM'))).toBe('operation not permitted');
    expect(fsReason(fsError('ENOTDIR'))).toBe('a part of the path is not a directory');
  });

  it('an error outside the table keeps its own message in fsReason, and is no file-system cause', () => {
    expect(fsReason(fsError('EWHATEVER'))).toBe('EWHATEVER: raw message');
    expect(fsCause(fsError('EWHATEVER'))).toBeNull();
    expect(fsWords(fsError('toString'))).toBeNull();
  });
});
