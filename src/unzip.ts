/**
 * The .zip reader, the counterpart of zip.ts. An archive comes from a stranger, so opening one
 * reads only its end records and central directory, and refuses the whole archive, before any
 * entry is expanded, when a name is unsafe or collides with another (zip-names.ts), when entries
 * overlap, or when the sizes it declares pass ZIP_LIMITS. Each entry is then read on its own: the
 * inflater's output is held to the size declared for it as the bytes come out, and its CRC-32 is
 * checked. The archive is a Blob (a File the user picked, read in slices, so its compressed bytes
 * are never all in memory) or bytes. Stored and deflate (the platform's DecompressionStream
 * 'deflate-raw'); ZIP64 is read; encrypted entries and multi-disk archives are refused.
 */
import { CodedError } from './errors.ts';
import { crc32, type ZipEntry } from './zip.ts';
import { collision, normalName, unsafeName } from './zip-names.ts';

/** Why an archive cannot be read: damaged, not a .zip, or a feature this reader does not have. */
export class ZipFormatError extends CodedError {
  static readonly code: string = 'ZIP_FORMAT';
  override name = 'ZipFormatError';
}

/** An entry name that could land outside the folder it is unpacked into, or collides with another. */
export class ZipNameError extends ZipFormatError {
  static override readonly code = 'ZIP_NAME';
  override name = 'ZipNameError';
}

/** An archive that would expand past ZIP_LIMITS: a zip bomb, or more than the app can hold. */
export class ZipLimitError extends ZipFormatError {
  static override readonly code = 'ZIP_LIMIT';
  override name = 'ZipLimitError';
}

export interface ZipLimits {
  /** expanded bytes of all entries together */
  total: number;
  /** expanded bytes of one entry */
  entry: number;
  /** expanded bytes per compressed byte of one entry that expands past `ratioFrom` */
  ratio: number;
  ratioFrom: number;
  /** entries (files and folders) in the central directory */
  entries: number;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * Generous for real tables, fatal to bombs (reasons in docs/reliability.md, "Archives"): one
 * entry is held in memory whole when read and the engines run in a 4 GiB wasm memory, so 2 GiB;
 * Parquet hardly compresses and a Delta log 10 to 30 times, while deflate reaches 1,032 to 1
 * on zeros, so 100 to 1 past 1 MiB; 32 GiB in all, past any lakehouse a browser tab works on.
 */
export const ZIP_LIMITS: ZipLimits = { total: 32 * GiB, entry: 2 * GiB, ratio: 100, ratioFrom: MiB, entries: 1_000_000 };

/** A file of the archive, as its central directory describes it. */
export interface ZipItem {
  /** the path it unpacks to ("." and empty parts left out) */
  name: string;
  /** expanded bytes */
  size: number;
  compressedSize: number;
  /** ms since the epoch, from the MS-DOS date and time (read as local time) */
  modified: number;
  method: number;
  crc: number;
  /** where its local header starts */
  offset: number;
}

/** Random access to an archive that is neither a Blob nor in memory (a file on disk, read with a file handle). */
export interface ZipReadable {
  readonly size: number;
  /** the bytes from start to end (fewer at the end of the archive) */
  read(start: number, end: number): Promise<Uint8Array>;
}

export type ZipInput = Blob | Uint8Array | ZipReadable;

const MAX16 = 0xffff;
const MAX32 = 0xffff_ffff;
/** How much of the compressed data the inflater is fed at a time. */
const CHUNK = 64 * 1024;
const decoder = new TextDecoder();
const quote = (name: string) => JSON.stringify(name);

export class ZipArchive {
  private constructor(
    /** the archive's name, for messages (e.g. the file name the user picked) */
    readonly name: string,
    private readonly input: ZipInput,
    /** its files, folders left out, in the order of the central directory */
    readonly entries: readonly ZipItem[],
  ) {}

  /** Read the central directory and check every name and declared size; nothing is expanded yet. */
  static async open(name: string, input: ZipInput, limits: ZipLimits = ZIP_LIMITS): Promise<ZipArchive> {
    const size = sizeOf(input);
    const damaged = (why: string) => new ZipFormatError(`${name} is damaged: ${why}`);

    // End of central directory: 22 bytes and a comment of up to 65,535, after a ZIP64 locator (20).
    const tailStart = Math.max(0, size - 22 - MAX16 - 20);
    const tail = await readAt(input, tailStart, size);
    const t = view(tail);
    let end = -1;
    for (let i = tail.byteLength - 22; i >= 0; i--) {
      if (t.getUint32(i, true) !== 0x06054b50) continue;
      if (end < 0) end = i;
      // A comment may hold the signature too: the record whose comment reaches the end wins.
      if (i + 22 + t.getUint16(i + 20, true) === tail.byteLength) {
        end = i;
        break;
      }
    }
    if (end < 0) throw new ZipFormatError(`${name} is not a .zip file (no end of central directory record)`);
    const multiDisk = () => new ZipFormatError(`${name} spans several disks, which is not supported`);
    if (t.getUint16(end + 4, true) !== 0 || t.getUint16(end + 6, true) !== 0) throw multiDisk();
    let count = t.getUint16(end + 10, true);
    let dirSize = t.getUint32(end + 12, true);
    let dirOffset = t.getUint32(end + 16, true);
    let dirLimit = tailStart + end;

    // ZIP64: a locator just before the end record points at a ZIP64 end record with the real values.
    if (end >= 20 && t.getUint32(end - 20, true) === 0x07064b50) {
      if (t.getUint32(end - 4, true) > 1) throw multiDisk();
      const at = uint64(t, end - 12, () => damaged('bad ZIP64 end of central directory locator'));
      const record = await readAt(input, at, at + 56);
      const r = view(record);
      if (record.byteLength < 56 || r.getUint32(0, true) !== 0x06064b50) throw damaged('bad ZIP64 end of central directory record');
      if (r.getUint32(16, true) !== 0 || r.getUint32(20, true) !== 0) throw multiDisk();
      const bad = () => damaged('bad ZIP64 end of central directory record');
      count = uint64(r, 32, bad);
      dirSize = uint64(r, 40, bad);
      dirOffset = uint64(r, 48, bad);
      dirLimit = at;
    }
    if (count > limits.entries) {
      throw new ZipLimitError(`${name} has ${digits(count)} entries, over the limit of ${digits(limits.entries)} for one archive`);
    }
    if (dirOffset + dirSize > dirLimit) throw damaged('bad central directory');

    const dir = await readAt(input, dirOffset, dirOffset + dirSize);
    const d = view(dir);
    const entries: ZipItem[] = [];
    const files: string[] = [];
    const folders: string[] = [];
    /** each entry's first byte and the least number of bytes it spans, to find overlaps */
    const spans: { start: number; length: number; name: string }[] = [];
    let total = 0;
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dir.byteLength || d.getUint32(p, true) !== 0x02014b50) throw damaged('bad central directory');
      const flags = d.getUint16(p + 8, true);
      const method = d.getUint16(p + 10, true);
      const time = d.getUint16(p + 12, true);
      const date = d.getUint16(p + 14, true);
      const crc = d.getUint32(p + 16, true);
      let compressedSize = d.getUint32(p + 20, true);
      let expanded = d.getUint32(p + 24, true);
      const nameLength = d.getUint16(p + 28, true);
      const extraLength = d.getUint16(p + 30, true);
      const commentLength = d.getUint16(p + 32, true);
      const disk = d.getUint16(p + 34, true);
      const mode = d.getUint32(p + 38, true) >>> 16;
      let offset = d.getUint32(p + 42, true);
      const next = p + 46 + nameLength + extraLength + commentLength;
      if (next > dir.byteLength) throw damaged('bad central directory');
      const raw = decoder.decode(dir.subarray(p + 46, p + 46 + nameLength));

      // ZIP64 extra field: the 8-byte values of the fields set to 0xffffffff, in this order.
      if (expanded === MAX32 || compressedSize === MAX32 || offset === MAX32) {
        const extra = findExtra(dir, p + 46 + nameLength, extraLength, 0x0001);
        const missing = () => damaged(`entry ${quote(raw)} has no ZIP64 sizes`);
        if (!extra) throw missing();
        let at = extra.start;
        const take = (): number => {
          if (at + 8 > extra.end) throw missing();
          at += 8;
          return uint64(d, at - 8, missing);
        };
        if (expanded === MAX32) expanded = take();
        if (compressedSize === MAX32) compressedSize = take();
        if (offset === MAX32) offset = take();
      }
      p = next;
      if (disk !== 0 && disk !== MAX16) throw multiDisk();

      const why = unsafeName(raw) ?? ((mode & 0o170000) === 0o120000 ? 'is a symbolic link' : undefined);
      if (why) throw new ZipNameError(`${name}: entry ${quote(raw)} ${why}`);
      if (raw.endsWith('/')) {
        folders.push(raw);
        continue;
      }
      if (flags & 0x1) throw new ZipFormatError(`${name}: entry ${quote(raw)} is encrypted, which is not supported`);
      if (method !== 0 && method !== 8) {
        throw new ZipFormatError(`${name}: entry ${quote(raw)} uses compression method ${method}, which is not supported (only stored and deflate)`);
      }
      if (expanded > limits.entry) {
        throw new ZipLimitError(
          `${name}: entry ${quote(raw)} would expand to ${digits(expanded)} bytes, over the limit of ${unit(limits.entry)} for one entry`,
        );
      }
      if (expanded > limits.ratioFrom && expanded > compressedSize * limits.ratio) {
        const ratio = compressedSize === 0 ? 'from nothing' : `${Math.floor(expanded / compressedSize)} to 1`;
        throw new ZipLimitError(
          `${name}: entry ${quote(raw)} would expand from ${digits(compressedSize)} to ${digits(expanded)} bytes (${ratio}), ` +
            `over the limit of ${limits.ratio} to 1 for an entry of more than ${unit(limits.ratioFrom)}`,
        );
      }
      total += expanded;
      if (total > limits.total) {
        throw new ZipLimitError(
          `${name}: entry ${quote(raw)} brings the expanded size to ${digits(total)} bytes, over the limit of ${unit(limits.total)} for one archive`,
        );
      }
      files.push(raw);
      spans.push({ start: offset, length: 30 + nameLength + compressedSize, name: raw });
      entries.push({ name: normalName(raw), size: expanded, compressedSize, modified: dosTime(date, time), method, crc, offset });
    }

    const clash = collision(files, folders);
    if (clash?.kind === 'same') throw new ZipNameError(`${name}: entries ${quote(clash.first)} and ${quote(clash.second)} unpack to the same file`);
    if (clash) throw new ZipNameError(`${name}: entry ${quote(clash.second)} would unpack inside ${quote(clash.first)}, which is a file`);
    spans.sort((a, b) => a.start - b.start);
    for (let i = 0; i < spans.length; i++) {
      const [a, b] = [spans[i]!, spans[i + 1]];
      if (b && a.start + a.length > b.start) {
        throw new ZipFormatError(
          `${name}: entries ${quote(a.name)} and ${quote(b.name)} overlap, which only a zip bomb does (to expand the same bytes again and again)`,
        );
      }
      if (!b && a.start + a.length > dirOffset) throw damaged(`entry ${quote(a.name)} is cut short`);
    }
    return new ZipArchive(name, input, entries);
  }

  /** One file's bytes, inflated and checked against its size and CRC-32. */
  async read(item: ZipItem): Promise<Uint8Array> {
    const damaged = this.damaged(item);
    const { start, end } = await this.span(item);
    let data: Uint8Array;
    if (item.method === 0) {
      const raw = await readAt(this.input, start, end);
      data = this.input instanceof Uint8Array ? raw.slice() : raw;
    } else {
      data = await this.inflate(item, start, end, damaged);
    }
    if (data.byteLength !== item.size || crc32(data) !== item.crc) throw damaged('fails its CRC-32 check');
    return data;
  }

  /**
   * `length` bytes of one file from byte `offset` (fewer at its end). A stored file's are read in
   * place (its CRC-32 covers the whole file, so it is not checked); a deflated file is inflated
   * and checked whole, since deflate cannot start midway.
   */
  async readRange(item: ZipItem, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`zip: a range of bytes needs a whole offset and length ≥ 0, got offset ${offset} and length ${length}`);
    const from = Math.min(offset, item.size);
    const to = Math.min(offset + length, item.size);
    if (item.method !== 0) return (await this.read(item)).subarray(from, to);
    const { start } = await this.span(item);
    const raw = await readAt(this.input, start + from, start + to);
    return this.input instanceof Uint8Array ? raw.slice() : raw;
  }

  private damaged(item: ZipItem): (why: string) => ZipFormatError {
    return (why) => new ZipFormatError(`${this.name} is damaged: entry ${quote(item.name)} ${why}`);
  }

  /** Where one file's (compressed) bytes lie in the archive, after its local header. */
  private async span(item: ZipItem): Promise<{ start: number; end: number }> {
    const damaged = this.damaged(item);
    const head = await readAt(this.input, item.offset, item.offset + 30);
    const h = view(head);
    if (head.byteLength < 30 || h.getUint32(0, true) !== 0x04034b50) throw damaged('has no local header');
    const start = item.offset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
    const end = start + item.compressedSize;
    if (end > sizeOf(this.input)) throw damaged('is cut short');
    return { start, end };
  }

  /** Deflate, stopped at the first chunk that would pass the declared size (which passed the limits). */
  private async inflate(item: ZipItem, start: number, end: number, damaged: (why: string) => ZipFormatError): Promise<Uint8Array> {
    const out = new Uint8Array(item.size);
    let at = 0;
    const reader = chunks(this.input, start, end).pipeThrough(new DecompressionStream('deflate-raw')).getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        if (r.value.byteLength > out.byteLength - at) {
          throw new ZipLimitError(
            `${this.name}: entry ${quote(item.name)} expands past the ${digits(item.size)} bytes declared for it, so it was stopped there`,
          );
        }
        out.set(r.value, at);
        at += r.value.byteLength;
      }
    } catch (err) {
      void reader.cancel().catch(() => {});
      if (err instanceof ZipFormatError) throw err;
      throw damaged(`does not inflate (${err instanceof Error ? err.message : String(err)})`);
    }
    return at === out.byteLength ? out : out.subarray(0, at);
  }
}

/** Every file of the archive (folders left out), in the order of its central directory: for small archives. */
export async function unzip(input: ZipInput, name = 'the archive'): Promise<Required<ZipEntry>[]> {
  const archive = await ZipArchive.open(name, input);
  const out: Required<ZipEntry>[] = [];
  for (const item of archive.entries) out.push({ name: item.name, data: await archive.read(item), modified: item.modified });
  return out;
}

function sizeOf(input: ZipInput): number {
  return input instanceof Uint8Array ? input.byteLength : input.size;
}

async function readAt(input: ZipInput, start: number, end: number): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input.subarray(start, end);
  if (input instanceof Blob) return new Uint8Array(await input.slice(start, end).arrayBuffer());
  return input.read(start, Math.min(end, input.size));
}

/** The bytes from start to end, CHUNK at a time, read only as the consumer pulls. */
function chunks(input: ZipInput, start: number, end: number): ReadableStream<BufferSource> {
  if (input instanceof Blob) return input.slice(start, end).stream();
  let at = start;
  return new ReadableStream<BufferSource>({
    async pull(controller) {
      if (at >= end) return controller.close();
      const next = Math.min(end, at + CHUNK);
      controller.enqueue((await readAt(input, at, next)) as Uint8Array<ArrayBuffer>);
      at = next;
    },
  });
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An 8-byte value, refused past 2^53 (no archive is that large; a bigger value is damage). */
function uint64(v: DataView, at: number, bad: () => Error): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad();
  return Number(n);
}

function findExtra(bytes: Uint8Array, start: number, length: number, id: number): { start: number; end: number } | undefined {
  const v = view(bytes);
  for (let at = start; at + 4 <= start + length; ) {
    const size = v.getUint16(at + 2, true);
    if (v.getUint16(at, true) === id) return { start: at + 4, end: Math.min(at + 4 + size, start + length) };
    at += 4 + size;
  }
  return undefined;
}

/** An MS-DOS date and time (the local wall clock, as zip.ts and zip tools write it) in ms since the epoch. */
function dosTime(date: number, time: number): number {
  return new Date(1980 + (date >> 9), ((date >> 5) & 0xf) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2).getTime();
}

/** 1073741824 → "1,073,741,824" */
function digits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A limit in the unit it was chosen in: "2 GiB", "1 MiB", else bytes. */
function unit(n: number): string {
  if (n % GiB === 0) return `${n / GiB} GiB`;
  if (n % MiB === 0) return `${n / MiB} MiB`;
  return `${digits(n)} bytes`;
}
