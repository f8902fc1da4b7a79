/**
 * `filesystem`: a small in-memory file tree, after BFCL v3's gorilla_file_system (ls, mkdir, touch,
 * echo into a file, cat, mv, cp, rm, find, grep, wc), with absolute paths instead of a working
 * directory (`cd` would make every call's meaning depend on the calls before it, which an agent
 * issuing calls concurrently cannot see).
 *
 * The state IS the root directory: a directory is a JSON object (name -> entry), a file is a
 * string (its content). So a JSON pointer into the state is the file's path: `/reports/q3.csv`
 * points at that file's content, which is what goals (spec/goal.ts) name.
 */
import { z } from 'zod';
import type { JsonValue } from '../spec/schema.js';
import type { EnvArgs, EnvOutcome, Environment, Operation } from './environment.js';

/** A directory: entry name -> a file's content (string) or a directory. */
export interface Dir {
  [name: string]: string | Dir;
}

/** Bounds: a scenario's tree and what an agent can grow it to. */
export const FS_LIMITS = {
  /** Characters in one file (a write beyond it is refused). */
  maxFileChars: 65_536,
  /** Entries in the whole tree. */
  maxNodes: 4_096,
  /** Directory levels below the root. */
  maxDepth: 32,
  /** Characters in one entry name. */
  maxNameChars: 255,
} as const;

const NAME = /^[^/\0]+$/;

function badName(name: string): string | null {
  if (name === '.' || name === '..') return `"${name}" is not a file name`;
  if (!NAME.test(name)) return `"${name}" is not a file name (no "/" or NUL)`;
  if (name.length > FS_LIMITS.maxNameChars)
    return `a name is at most ${FS_LIMITS.maxNameChars} characters`;
  return null;
}

const dirSchema: z.ZodType<Dir> = z.lazy(() =>
  z.record(z.string(), z.union([z.string().max(FS_LIMITS.maxFileChars), dirSchema])),
);

/** The state schema: a directory tree within FS_LIMITS, every name a valid file name. */
const stateSchema: z.ZodType<Dir> = dirSchema.superRefine((root, ctx) => {
  let nodes = 0;
  const walk = (dir: Dir, at: string[]): void => {
    if (at.length > FS_LIMITS.maxDepth) {
      ctx.addIssue({
        code: 'custom',
        path: at,
        message: `deeper than ${FS_LIMITS.maxDepth} levels`,
      });
      return;
    }
    for (const [name, entry] of Object.entries(dir)) {
      const bad = badName(name);
      if (bad !== null) ctx.addIssue({ code: 'custom', path: [...at, name], message: bad });
      if (++nodes > FS_LIMITS.maxNodes) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: `more than ${FS_LIMITS.maxNodes} entries`,
        });
        return;
      }
      if (typeof entry !== 'string') walk(entry, [...at, name]);
    }
  };
  walk(root, []);
});

type Result = EnvOutcome<Dir>;
const fail = (error: string): Result => ({ ok: false, error });

/** An absolute path's names (`/a/b` -> [a, b]; `/` -> []), or why it is not one. */
function parsePath(path: string): string[] | string {
  if (!path.startsWith('/')) return `"${path}": paths are absolute (start with "/")`;
  const names = path.split('/').filter((n) => n !== '');
  for (const n of names) {
    const bad = badName(n);
    if (bad !== null) return `"${path}": ${bad}`;
  }
  return names;
}

function lookup(root: Dir, names: readonly string[]): string | Dir | undefined {
  let node: string | Dir | undefined = root;
  for (const n of names) {
    if (node === undefined || typeof node === 'string' || !Object.hasOwn(node, n)) return undefined;
    node = node[n];
  }
  return node;
}

function show(names: readonly string[]): string {
  return `/${names.join('/')}`;
}

function countNodes(entry: string | Dir): number {
  if (typeof entry === 'string') return 1;
  let n = 1;
  for (const child of Object.values(entry)) n += countNodes(child);
  return n;
}

function depthOf(entry: string | Dir): number {
  if (typeof entry === 'string') return 0;
  let d = 0;
  for (const child of Object.values(entry)) d = Math.max(d, 1 + depthOf(child));
  return d;
}

/**
 * A copy of `root` with the entry at `names` set to `entry` (or removed when undefined): copies
 * only the directories on the path, so the input state is never touched (operations are pure).
 * The parent must exist and be a directory.
 */
function setAt(root: Dir, names: readonly string[], entry: string | Dir | undefined): Dir {
  if (names.length === 0) throw new Error('setAt: the root cannot be replaced');
  const [head, ...rest] = names as [string, ...string[]];
  const out: Dir = { ...root };
  if (rest.length === 0) {
    if (entry === undefined) delete out[head];
    else out[head] = entry;
    return sortedDir(out);
  }
  const child = root[head];
  if (child === undefined || typeof child === 'string') throw new Error('setAt: no such directory');
  out[head] = setAt(child, rest, entry);
  return out;
}

/** Entries in name order: listings and canonical digests need no other ordering. */
function sortedDir(dir: Dir): Dir {
  const out: Dir = {};
  for (const name of Object.keys(dir).sort()) out[name] = dir[name]!;
  return out;
}

/** The parent of `names` as a directory, or an error naming the path. */
function parentDir(root: Dir, names: readonly string[], op: string): Dir | string {
  const parent = lookup(root, names.slice(0, -1));
  if (parent === undefined) return `${op}: ${show(names.slice(0, -1))}: no such directory`;
  if (typeof parent === 'string') return `${op}: ${show(names.slice(0, -1))}: not a directory`;
  return parent;
}

/** Bounds after adding `entry` (nodes) under `names` (depth): null when within them. */
function overBounds(root: Dir, names: readonly string[], entry: string | Dir): string | null {
  if (countNodes(root) - 1 + countNodes(entry) > FS_LIMITS.maxNodes)
    return `the file system is full (at most ${FS_LIMITS.maxNodes} entries)`;
  if (names.length + depthOf(entry) > FS_LIMITS.maxDepth + 1)
    return `too deep (at most ${FS_LIMITS.maxDepth} levels)`;
  return null;
}

const str = (args: EnvArgs, key: string): string => args[key] as string;
const flag = (args: EnvArgs, key: string): boolean => args[key] === true;

function op(
  description: string,
  properties: Record<string, JsonValue>,
  required: string[],
  readOnly: boolean,
  apply: (root: Dir, args: EnvArgs) => Result,
): Operation<Dir> {
  return {
    description,
    parameters: { type: 'object', properties, required, additionalProperties: false },
    readOnly,
    apply: (root, args) => apply(root, args),
  };
}

const PATH = { type: 'string', description: 'An absolute path, e.g. /reports/q3.csv.' };

function ls(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`ls: ${names}`);
  const node = lookup(root, names);
  if (node === undefined) return fail(`ls: ${show(names)}: no such file or directory`);
  if (typeof node === 'string')
    return { ok: true, state: root, result: { entries: [names.at(-1)!] } };
  const entries = Object.keys(node)
    .sort()
    .map((n) => (typeof node[n] === 'string' ? n : `${n}/`));
  return { ok: true, state: root, result: { entries } };
}

function mkdir(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`mkdir: ${names}`);
  if (names.length === 0) return fail('mkdir: /: file exists');
  let state = root;
  // With `parents`, each missing directory on the way is made, as `mkdir -p` does.
  const from = flag(args, 'parents') ? 1 : names.length;
  for (let k = from; k <= names.length; k++) {
    const prefix = names.slice(0, k);
    const existing = lookup(state, prefix);
    if (existing !== undefined) {
      if (k < names.length && typeof existing !== 'string') continue;
      if (k === names.length && flag(args, 'parents') && typeof existing !== 'string')
        return { ok: true, state: root, result: { created: show(names) } };
      return fail(`mkdir: ${show(prefix)}: file exists`);
    }
    const parent = parentDir(state, prefix, 'mkdir');
    if (typeof parent === 'string') return fail(parent);
    const bound = overBounds(state, prefix, {});
    if (bound !== null) return fail(`mkdir: ${bound}`);
    state = setAt(state, prefix, {});
  }
  return { ok: true, state, result: { created: show(names) } };
}

function write(root: Dir, names: string[], content: string, opName: string): Result {
  if (names.length === 0) return fail(`${opName}: /: is a directory`);
  const parent = parentDir(root, names, opName);
  if (typeof parent === 'string') return fail(parent);
  const existing = parent[names.at(-1)!];
  if (existing !== undefined && typeof existing !== 'string')
    return fail(`${opName}: ${show(names)}: is a directory`);
  if (content.length > FS_LIMITS.maxFileChars)
    return fail(
      `${opName}: ${show(names)}: a file holds at most ${FS_LIMITS.maxFileChars} characters`,
    );
  if (existing === undefined) {
    const bound = overBounds(root, names, content);
    if (bound !== null) return fail(`${opName}: ${bound}`);
  }
  return {
    ok: true,
    state: setAt(root, names, content),
    result: { path: show(names), chars: content.length },
  };
}

function touch(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`touch: ${names}`);
  const existing = lookup(root, names);
  if (existing !== undefined) {
    if (typeof existing !== 'string') return fail(`touch: ${show(names)}: is a directory`);
    return { ok: true, state: root, result: { path: show(names), chars: existing.length } };
  }
  return write(root, names, '', 'touch');
}

function writeOp(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`write: ${names}`);
  const existing = lookup(root, names);
  const before = flag(args, 'append') && typeof existing === 'string' ? existing : '';
  return write(root, names, before + str(args, 'content'), 'write');
}

function cat(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`cat: ${names}`);
  const node = lookup(root, names);
  if (node === undefined) return fail(`cat: ${show(names)}: no such file`);
  if (typeof node !== 'string') return fail(`cat: ${show(names)}: is a directory`);
  return { ok: true, state: root, result: { content: node } };
}

/**
 * Where mv/cp put `source`: into `destination` when that is a directory (keeping the name), else
 * at `destination` itself, which must not exist and whose parent must.
 */
function target(root: Dir, src: string[], dest: string[], opName: string): string[] | string {
  const node = lookup(root, dest);
  const to = node !== undefined && typeof node !== 'string' ? [...dest, src.at(-1)!] : dest;
  if (to.length === 0) return `${opName}: cannot replace /`;
  if (lookup(root, to) !== undefined) return `${opName}: ${show(to)}: already exists`;
  const parent = parentDir(root, to, opName);
  if (typeof parent === 'string') return parent;
  // A directory cannot go inside itself.
  if (to.length >= src.length && src.every((n, i) => to[i] === n))
    return `${opName}: cannot put ${show(src)} inside itself`;
  return to;
}

function transfer(root: Dir, args: EnvArgs, move: boolean): Result {
  const opName = move ? 'mv' : 'cp';
  const src = parsePath(str(args, 'source'));
  if (typeof src === 'string') return fail(`${opName}: ${src}`);
  const dest = parsePath(str(args, 'destination'));
  if (typeof dest === 'string') return fail(`${opName}: ${dest}`);
  if (src.length === 0) return fail(`${opName}: cannot ${move ? 'move' : 'copy'} /`);
  const node = lookup(root, src);
  if (node === undefined) return fail(`${opName}: ${show(src)}: no such file or directory`);
  const to = target(root, src, dest, opName);
  if (typeof to === 'string') return fail(to);
  let state = root;
  if (move) state = setAt(state, src, undefined);
  else {
    const bound = overBounds(state, to, node);
    if (bound !== null) return fail(`cp: ${bound}`);
  }
  if (move && to.length + depthOf(node) > FS_LIMITS.maxDepth + 1)
    return fail(`mv: too deep (at most ${FS_LIMITS.maxDepth} levels)`);
  // Entries are immutable values (setAt copies): sharing `node` between places is safe.
  state = setAt(state, to, node);
  return { ok: true, state, result: { path: show(to) } };
}

function rm(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`rm: ${names}`);
  if (names.length === 0) return fail('rm: refusing to remove /');
  const node = lookup(root, names);
  if (node === undefined) return fail(`rm: ${show(names)}: no such file or directory`);
  if (typeof node !== 'string' && Object.keys(node).length > 0 && !flag(args, 'recursive'))
    return fail(`rm: ${show(names)}: directory not empty (use recursive)`);
  return { ok: true, state: setAt(root, names, undefined), result: { removed: show(names) } };
}

function find(root: Dir, args: EnvArgs): Result {
  const names = parsePath(str(args, 'path'));
  if (typeof names === 'string') return fail(`find: ${names}`);
  const node = lookup(root, names);
  if (node === undefined) return fail(`find: ${show(names)}: no such file or directory`);
  const part = typeof args.name === 'string' ? args.name : '';
  const matches: string[] = [];
  const walk = (entry: string | Dir, at: string[]): void => {
    if (at.length > names.length && at.at(-1)!.includes(part)) matches.push(show(at));
    if (typeof entry !== 'string')
      for (const n of Object.keys(entry).sort()) walk(entry[n]!, [...at, n]);
  };
  walk(node, names);
  return { ok: true, state: root, result: { matches } };
}

function readFile(root: Dir, path: string, opName: string): string | { error: string } {
  const names = parsePath(path);
  if (typeof names === 'string') return { error: `${opName}: ${names}` };
  const node = lookup(root, names);
  if (node === undefined) return { error: `${opName}: ${show(names)}: no such file` };
  if (typeof node !== 'string') return { error: `${opName}: ${show(names)}: is a directory` };
  return node;
}

function lines(content: string): string[] {
  if (content === '') return [];
  const out = content.split('\n');
  if (out.at(-1) === '') out.pop();
  return out;
}

function grep(root: Dir, args: EnvArgs): Result {
  const content = readFile(root, str(args, 'path'), 'grep');
  if (typeof content !== 'string') return fail(content.error);
  // A literal substring, not a regular expression: an agent's pattern cannot take unbounded time.
  const pattern = str(args, 'pattern');
  return {
    ok: true,
    state: root,
    result: { lines: lines(content).filter((l) => l.includes(pattern)) },
  };
}

function wc(root: Dir, args: EnvArgs): Result {
  const content = readFile(root, str(args, 'path'), 'wc');
  if (typeof content !== 'string') return fail(content.error);
  const mode = typeof args.mode === 'string' ? args.mode : 'lines';
  const count =
    mode === 'chars'
      ? content.length
      : mode === 'words'
        ? content.split(/\s+/).filter((w) => w !== '').length
        : lines(content).length;
  return { ok: true, state: root, result: { count, mode } };
}

const operations: Record<string, Operation<Dir>> = {
  ls: op(
    'List a directory (entries sorted; directories end with "/").',
    { path: PATH },
    ['path'],
    true,
    ls,
  ),
  mkdir: op(
    'Create a directory. With parents, also create missing directories on the way (and succeed if it exists).',
    { path: PATH, parents: { type: 'boolean' } },
    ['path'],
    false,
    mkdir,
  ),
  touch: op('Create an empty file if it does not exist.', { path: PATH }, ['path'], false, touch),
  write: op(
    'Write content to a file, creating it or replacing its content (append: add to the end). The parent directory must exist.',
    { path: PATH, content: { type: 'string' }, append: { type: 'boolean' } },
    ['path', 'content'],
    false,
    writeOp,
  ),
  cat: op("Read a file's content.", { path: PATH }, ['path'], true, cat),
  mv: op(
    'Move or rename a file or directory. If destination is a directory, move into it.',
    { source: PATH, destination: PATH },
    ['source', 'destination'],
    false,
    (r, a) => transfer(r, a, true),
  ),
  cp: op(
    'Copy a file or directory. If destination is a directory, copy into it.',
    { source: PATH, destination: PATH },
    ['source', 'destination'],
    false,
    (r, a) => transfer(r, a, false),
  ),
  rm: op(
    'Remove a file, or a directory (a non-empty one only with recursive).',
    { path: PATH, recursive: { type: 'boolean' } },
    ['path'],
    false,
    rm,
  ),
  find: op(
    'Find files and directories below path whose name contains name (all of them without name).',
    { path: PATH, name: { type: 'string' } },
    ['path'],
    true,
    find,
  ),
  grep: op(
    'The lines of a file that contain pattern (a literal string, not a regular expression).',
    { path: PATH, pattern: { type: 'string', minLength: 1 } },
    ['path', 'pattern'],
    true,
    grep,
  ),
  wc: op(
    'Count the lines, words or characters of a file (mode, default lines).',
    { path: PATH, mode: { type: 'string', enum: ['lines', 'words', 'chars'] } },
    ['path'],
    true,
    wc,
  ),
};

export const filesystem: Environment<Dir> = {
  name: 'filesystem',
  description:
    'A file tree: directories are JSON objects, files are strings (their content); paths are absolute.',
  stateSchema,
  emptyState: {},
  operations,
};
