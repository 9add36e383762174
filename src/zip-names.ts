/**
 * Which entry names a .zip may hold. An archive comes from a stranger and its names become paths
 * in the lakehouse's storage (OPFS, a folder on disk), so a name that could land outside the folder
 * it is unpacked into, or that means something else on another system, is refused rather than
 * cleaned up: a cleaned name could collide with another entry, or hide what the archive tried.
 */

/** Why `name` must not be unpacked, or undefined when it is safe. */
export function unsafeName(name: string): string | undefined {
  if (name.includes('\0')) return 'has a NUL character';
  if (name.includes('\\')) return 'has a backslash, which Windows reads as a folder separator';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').includes('..')) return 'has a ".." part, which would put it outside the folder it is unpacked into';
  if (normalName(name) === '' && !name.endsWith('/')) return 'has no name';
  return undefined;
}

/** The path a safe name unpacks to: without "." parts, empty parts (`a//b`) and a folder's trailing '/'. */
export function normalName(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

/** `first` and `second` unpack to the same file, or `second` lies inside `first`, which is a file. */
export interface Collision {
  kind: 'same' | 'inside';
  first: string;
  second: string;
}

/**
 * The first collision among an archive's files and folders, or undefined. Names are compared in
 * Unicode NFC, as macOS file systems and many zip tools treat "é" and "e" + U+0301 as one name.
 */
export function collision(files: readonly string[], folders: readonly string[]): Collision | undefined {
  const byPath = new Map<string, string>();
  for (const name of files) {
    const path = normalName(name).normalize('NFC');
    const before = byPath.get(path);
    if (before !== undefined) return { kind: 'same', first: before, second: name };
    byPath.set(path, name);
  }
  // Every folder a file lies in, and a folder entry itself, must not be a file.
  const below = (name: string, self: number): Collision | undefined => {
    const parts = normalName(name).normalize('NFC').split('/');
    for (let i = 1; i <= parts.length - self; i++) {
      const file = byPath.get(parts.slice(0, i).join('/'));
      if (file !== undefined) return { kind: 'inside', first: file, second: name };
    }
    return undefined;
  };
  for (const name of files) {
    const found = below(name, 1);
    if (found) return found;
  }
  for (const name of folders) {
    const found = below(name, 0);
    if (found) return found;
  }
  return undefined;
}
